/** One parsed JSON line and where it came from. */
export interface JsonlLine {
  /** 1-based line number in the file, for error messages. */
  readonly line: number;
  /** The parsed value (not yet validated). */
  readonly value: unknown;
}

/**
 * Parses JSON Lines text: one JSON value per line, blank lines skipped. A line that is not JSON
 * is an error naming `file:line` and the parser's complaint.
 */
export function parseJsonl(text: string, file = '<data>'): JsonlLine[] {
  const out: JsonlLine[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const s = raw.trim();
    if (s.length === 0) return;
    try {
      out.push({ line: i + 1, value: JSON.parse(s) as unknown });
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(e as Error).message}); write one JSON object per line.`);
    }
  });
  if (out.length === 0) throw new Error(`${file}: no examples (the file is empty); write one JSON object per line.`);
  return out;
}

/** A plain object's fields, or null when `v` is not a plain object. */
export function asRecord(v: unknown): Record<string, unknown> | null {
  return v != null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
