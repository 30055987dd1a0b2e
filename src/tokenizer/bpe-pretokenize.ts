/**
 * Pre-tokenization: the text is cut into pieces before BPE so merges never cross a piece
 * boundary (a word never fuses with the punctuation or the word after it), and special
 * tokens are cut out before that so they are never split.
 */

/**
 * GPT-2's pre-tokenization pattern: English contractions, then an optional space followed by
 * a run of letters, of digits, or of other non-space characters; whitespace runs keep their
 * last space for the next word (`\s+(?!\S)`).
 *
 * It runs on JavaScript's regex engine (flags `gu`), as js-tiktoken does, so `\s` is
 * ECMAScript whitespace: it includes U+FEFF and excludes U+0085, unlike Python's or Rust's `\s`.
 * Texts containing those two characters may split differently than with OpenAI's Rust tiktoken.
 */
export const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

/** A fresh global, unicode-aware regex for {@link GPT2_PATTERN}. */
export function gpt2Regex(): RegExp {
  return new RegExp(GPT2_PATTERN, 'gu');
}

/** Splits text into GPT-2 pre-tokens; concatenating them gives the text back. */
export function pretokenize(text: string, regex: RegExp = gpt2Regex()): string[] {
  // String.prototype.match with a global regex returns all matched substrings at once (and
  // resets lastIndex), much cheaper than building a match object per piece. The pattern
  // matches every character (the last two alternatives cover all whitespace, the one before
  // every other non-letter, non-digit), so no text is lost between matches.
  return text.match(regex) ?? [];
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * A regex matching any of the special tokens, longest first so that one special token that
 * is a prefix of another never wins over it; null when there are none.
 */
export function specialTokenRegex(specials: readonly string[]): RegExp | null {
  if (specials.length === 0) return null;
  const sorted = [...specials].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  return new RegExp(sorted.map(escapeRegex).join('|'), 'g');
}

/**
 * Calls `ordinary` for each stretch of text between special tokens (skipping empty ones) and
 * `special` for each special token, in text order.
 */
export function splitOnSpecial(
  text: string,
  regex: RegExp | null,
  ordinary: (segment: string) => void,
  special: (token: string) => void,
): void {
  if (regex === null) {
    if (text.length > 0) ordinary(text);
    return;
  }
  let start = 0;
  for (const m of text.matchAll(regex)) {
    if (m.index > start) ordinary(text.slice(start, m.index));
    special(m[0]);
    start = m.index + m[0].length;
  }
  if (start < text.length) ordinary(text.slice(start));
}

/** Checks a list of special tokens: non-empty, distinct strings. */
export function checkSpecialTokens(specials: unknown, where: string): readonly string[] {
  if (!Array.isArray(specials)) {
    throw new Error(`${where}: specialTokens must be an array of strings, e.g. ['<|endoftext|>'].`);
  }
  const seen = new Set<string>();
  for (const s of specials as unknown[]) {
    if (typeof s !== 'string' || s.length === 0) {
      throw new Error(`${where}: every special token must be a non-empty string, got ${JSON.stringify(s)}.`);
    }
    if (seen.has(s)) throw new Error(`${where}: special token ${JSON.stringify(s)} is listed twice; list it once.`);
    seen.add(s);
  }
  return specials as readonly string[];
}
