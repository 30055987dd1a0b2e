/**
 * Strict JSON for checkpoint files. Plain JSON.stringify silently turns Infinity and NaN
 * into null and Maps, Sets and typed arrays into {}, so a resumed run would quietly read
 * different values; here those are errors instead.
 */
import { readFile } from 'node:fs/promises';

/** Serializes `value` (pretty-printed, trailing newline), rejecting what JSON would mangle. */
export function toJsonText(value: unknown, what: string): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what} must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}.`);
  }
  const replacer = function (this: unknown, key: string, v: unknown): unknown {
    const at = key === '' ? what : `${what} key "${key}"`;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new Error(`${at} is ${v}, which JSON cannot represent; store null or a string instead.`);
    }
    if (typeof v === 'bigint') throw new Error(`${at} is a bigint; convert it to a number or string.`);
    if (ArrayBuffer.isView(v)) throw new Error(`${at} is a typed array; convert it with Array.from().`);
    if (v instanceof Map || v instanceof Set) {
      throw new Error(`${at} is a ${v instanceof Map ? 'Map' : 'Set'}; convert it to a plain object or array.`);
    }
    return v;
  };
  let text: string;
  try {
    text = JSON.stringify(value, replacer, 2);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith(what) ? msg : `${what} is not JSON-serializable: ${msg}`);
  }
  return `${text}\n`;
}

/**
 * Reads a JSON file that must hold an object; errors name the file and the fault.
 * Returns null when the file does not exist, so the caller can word that error.
 */
export async function readJsonObject(file: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${file}: cannot read (${(e as Error).message}).`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: malformed JSON (${(e as Error).message}); the file is corrupt or was edited by hand.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${file}: expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}.`);
  }
  return value as Record<string, unknown>;
}
