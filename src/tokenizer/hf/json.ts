/**
 * Narrowing helpers for reading Hugging Face tokenizer.json / tokenizer_config.json objects
 * (parsed JSON is `unknown`; every field is checked before use, with the file's path in errors).
 */

/** A parsed JSON object. */
export type JSONObject = Readonly<Record<string, unknown>>;

/** Throws the one-line error every malformed tokenizer file gets. */
export function bad(where: string, problem: string): never {
  throw new Error(`${where}: ${problem}`);
}

/** Whether v is a plain (non-array) object. */
export function isObject(v: unknown): v is JSONObject {
  return v != null && typeof v === 'object' && !Array.isArray(v);
}

/** v as an object, or an error naming `what`. */
export function obj(v: unknown, where: string, what: string): JSONObject {
  if (!isObject(v)) bad(where, `${what} must be a JSON object, got ${JSON.stringify(v)}.`);
  return v;
}

/** A string field, or `fallback` when absent (null counts as absent). */
export function str(o: JSONObject, key: string, where: string, fallback?: string): string {
  const v = o[key];
  if (v == null && fallback !== undefined) return fallback;
  if (typeof v !== 'string') bad(where, `"${key}" must be a string, got ${JSON.stringify(v)}.`);
  return v;
}

/** A boolean field, or `fallback` when absent. */
export function bool(o: JSONObject, key: string, where: string, fallback: boolean): boolean {
  const v = o[key];
  if (v == null) return fallback;
  if (typeof v !== 'boolean') bad(where, `"${key}" must be true or false, got ${JSON.stringify(v)}.`);
  return v;
}

/** A non-negative integer field, or `fallback` when absent. */
export function int(o: JSONObject, key: string, where: string, fallback?: number): number {
  const v = o[key];
  if (v == null && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    bad(where, `"${key}" must be a non-negative integer, got ${JSON.stringify(v)}.`);
  }
  return v;
}

/** An array field (absent → []). */
export function arr(o: JSONObject, key: string, where: string): readonly unknown[] {
  const v = o[key];
  if (v == null) return [];
  if (!Array.isArray(v)) bad(where, `"${key}" must be an array, got ${JSON.stringify(v)}.`);
  return v;
}

/** The "type" of a component, for dispatch. */
export function typeOf(o: JSONObject, where: string, kind: string): string {
  const t = o.type;
  if (typeof t !== 'string') bad(where, `a ${kind} has no "type" field: ${JSON.stringify(o).slice(0, 80)}.`);
  return t;
}

/** The error for a component tinygpt does not implement, naming its type and the supported ones. */
export function unsupported(where: string, kind: string, type: string, known: readonly string[]): never {
  bad(where, `${kind} type "${type}" is not supported by tinygpt (supported: ${known.join(', ')}).`);
}

/**
 * A Split/Replace "pattern" field: { String: "..." } (a literal) or { Regex: "..." } (Oniguruma
 * syntax, translated by the caller).
 */
export function patternOf(o: JSONObject, where: string): { readonly literal?: string; readonly regex?: string } {
  const p = obj(o.pattern, where, '"pattern"');
  if (typeof p.String === 'string') return { literal: p.String };
  if (typeof p.Regex === 'string') return { regex: p.Regex };
  return bad(where, `"pattern" must be {"String": ...} or {"Regex": ...}, got ${JSON.stringify(p)}.`);
}

/** An AddedToken-like value in tokenizer_config.json: a string or { content: string, ... }. */
export function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}
