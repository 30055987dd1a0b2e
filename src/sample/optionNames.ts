/**
 * Unknown option names are errors, not silently ignored: `top_k` or `max_new_tokens` (Python's
 * spelling) and typos such as `temprature` get a message naming the option meant.
 */

/** Edit distance (insertions, deletions, substitutions; Levenshtein 1966), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length];
}

/** snake_case or kebab-case → camelCase: "max_new_tokens" → "maxNewTokens". */
function camel(name: string): string {
  return name.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The known name a user most likely meant by `name`: the same name in camelCase or another
 * letter case, else the nearest by edit distance if it is close (at most a third of the
 * name's length, and at least 2 edits allowed); undefined when nothing is close.
 */
export function suggestName(name: string, known: readonly string[]): string | undefined {
  const c = camel(name).toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === c);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = Math.min(editDistance(name, k), editDistance(c, k));
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Throws on the first option key not in `known`, suggesting the right name. */
export function checkOptionNames(options: object, known: readonly string[], where: string): void {
  const allowed = new Set(known);
  for (const key of Object.keys(options)) {
    if (allowed.has(key)) continue;
    const guess = suggestName(key, known);
    throw new Error(
      guess !== undefined
        ? `${where}: unknown option "${key}"; did you mean "${guess}"?`
        : `${where}: unknown option "${key}"; the options are ${known.join(', ')}.`,
    );
  }
}
