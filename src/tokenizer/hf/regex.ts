/**
 * Hugging Face tokenizers compile Split/Replace patterns with Oniguruma; JavaScript's RegExp
 * (with the u flag) agrees on the constructs tokenizer files use (\p{L}, \p{N}, \s, lookahead),
 * except two that Node 20 rejects: inline case-insensitive groups "(?i:...)" and possessive
 * quantifiers ("?+", "++", "*+"; not "{n,m}+"). The first is rewritten letter by letter ([sS]); the second
 * drops the possessive mark (the patterns in use match the same text either way, since their
 * alternatives do not backtrack into each other).
 */

/** Rewrites ASCII letters outside character classes as two-case classes: "'s" → "'[sS]". */
function caseless(body: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      out += c + (body[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    const lower = c.toLowerCase();
    const upper = c.toUpperCase();
    if (!inClass && /[a-zA-Z]/.test(c) && lower !== upper) out += `[${lower}${upper}]`;
    else out += c;
  }
  return out;
}

/** Index just past the group that opens at `open` (a '('), honouring escapes and classes. */
function groupEnd(src: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/** Translates an Oniguruma pattern from a tokenizer file into a global, unicode JavaScript RegExp. */
export function translateRegex(pattern: string, where: string): RegExp {
  let src = pattern;
  for (let at = src.indexOf('(?i:'); at >= 0; at = src.indexOf('(?i:', at)) {
    const end = groupEnd(src, at);
    if (end < 0) break;
    const inner = caseless(src.slice(at + 4, end - 1));
    src = src.slice(0, at) + '(?:' + inner + ')' + src.slice(end);
    at += 3 + inner.length;
  }
  src = src.replace(/([?*+])\+/g, (m: string, q: string, offset: number) => (src[offset - 1] === '\\' ? m : q));
  try {
    return new RegExp(src, 'gu');
  } catch (e) {
    throw new Error(`${where}: the pattern ${JSON.stringify(pattern)} is not supported by JavaScript RegExp (${(e as Error).message}).`);
  }
}

/** Escapes a literal for use inside a RegExp. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** [start, end) of every non-empty match of `re` (global) in text, in order. */
export function matchRanges(re: RegExp, text: string): [number, number][] {
  const out: [number, number][] = [];
  re.lastIndex = 0;
  for (const m of text.matchAll(re)) {
    const start = m.index ?? 0;
    if (m[0].length > 0) out.push([start, start + m[0].length]);
  }
  return out;
}
