/**
 * Normalizers of tokenizer.json: string → string, applied to each stretch of text between
 * added tokens (so Llama-2's Prepend("▁") prefixes every such stretch, as Hugging Face does).
 */
import { arr, bad, bool, obj, patternOf, str, typeOf, unsupported, type JSONObject } from './json.js';
import { escapeRegex, translateRegex } from './regex.js';

/** A text normalizer. */
export type Normalizer = (text: string) => string;

const KNOWN = ['Sequence', 'Prepend', 'Replace', 'Strip', 'Lowercase', 'NFC', 'NFD', 'NFKC', 'NFKD'];

/** A global RegExp for a Replace/Split pattern (a literal or an Oniguruma regex). */
export function patternRegex(o: JSONObject, where: string): RegExp {
  const p = patternOf(o, where);
  return p.literal !== undefined ? new RegExp(escapeRegex(p.literal), 'gu') : translateRegex(p.regex as string, where);
}

/** Builds the normalizer described by a tokenizer.json "normalizer" entry (null: identity). */
export function buildNormalizer(json: unknown, where: string): Normalizer {
  if (json == null) return (s) => s;
  const o = obj(json, where, 'normalizer');
  const type = typeOf(o, where, 'normalizer');
  switch (type) {
    case 'Sequence': {
      const parts = arr(o, 'normalizers', where).map((n) => buildNormalizer(n, where));
      return (s) => parts.reduce((acc, f) => f(acc), s);
    }
    case 'Prepend': {
      const prefix = str(o, 'prepend', where);
      // Empty text stays empty: there is nothing to mark as a word start.
      return (s) => (s.length === 0 ? s : prefix + s);
    }
    case 'Replace': {
      const re = patternRegex(o, where);
      const content = str(o, 'content', where);
      return (s) => s.replace(re, () => content);
    }
    case 'Strip': {
      const left = bool(o, 'strip_left', where, true);
      const right = bool(o, 'strip_right', where, true);
      return (s) => {
        let t = left ? s.replace(/^\s+/u, '') : s;
        if (right) t = t.replace(/\s+$/u, '');
        return t;
      };
    }
    case 'Lowercase':
      return (s) => s.toLowerCase();
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return (s) => s.normalize(type);
    default:
      return type === 'Precompiled'
        ? bad(where, 'normalizer type "Precompiled" (a SentencePiece charsmap) is not supported by tinygpt; use a tokenizer.json without it.')
        : unsupported(where, 'normalizer', type, KNOWN);
  }
}
