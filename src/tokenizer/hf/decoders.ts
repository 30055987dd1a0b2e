/**
 * Decoders of tokenizer.json: token strings → strings, chained; the results are concatenated.
 * Without a decoder, Hugging Face joins the tokens with single spaces.
 */
import { gpt2CharToByte } from '../bpe-bytes.js';
import { arr, int, obj, str, typeOf, unsupported } from './json.js';
import { patternRegex } from './normalizers.js';

/** A decoder step. */
export type Decoder = (tokens: readonly string[]) => string[];

const KNOWN = ['Sequence', 'Replace', 'ByteFallback', 'Fuse', 'Strip', 'Metaspace', 'ByteLevel'];

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lossyUtf8 = new TextDecoder('utf-8');

/** "<0xNN>" runs become their UTF-8 text; invalid UTF-8 becomes one U+FFFD per byte. */
function byteFallback(tokens: readonly string[]): string[] {
  const out: string[] = [];
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    try {
      out.push(strictUtf8.decode(Uint8Array.from(bytes)));
    } catch {
      for (let i = 0; i < bytes.length; i++) out.push('\uFFFD');
    }
    bytes = [];
  };
  for (const t of tokens) {
    const m = BYTE_TOKEN.exec(t);
    if (m) bytes.push(parseInt(m[1], 16));
    else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out;
}

/** GPT-2's byte alphabet back to bytes, decoded as UTF-8 (invalid sequences → U+FFFD). */
function byteLevel(tokens: readonly string[]): string[] {
  const map = gpt2CharToByte();
  const bytes: number[] = [];
  for (const t of tokens) {
    for (const c of t) {
      const b = map.get(c);
      if (b !== undefined) bytes.push(b);
      else bytes.push(...new TextEncoder().encode(c)); // an added token's own text
    }
  }
  return [lossyUtf8.decode(Uint8Array.from(bytes))];
}

/** Builds the decoder of a tokenizer.json "decoder" entry (null: join with spaces). */
export function buildDecoder(json: unknown, where: string): Decoder {
  if (json == null) return (tokens) => [tokens.join(' ')];
  const o = obj(json, where, 'decoder');
  const type = typeOf(o, where, 'decoder');
  switch (type) {
    case 'Sequence': {
      const steps = arr(o, 'decoders', where).map((d) => buildDecoder(d, where));
      return (tokens) => steps.reduce<string[]>((acc, f) => f(acc), [...tokens]);
    }
    case 'Replace': {
      const re = patternRegex(o, where);
      const content = str(o, 'content', where);
      return (tokens) => tokens.map((t) => t.replace(re, () => content));
    }
    case 'ByteFallback':
      return byteFallback;
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'Strip': {
      const content = str(o, 'content', where);
      const start = int(o, 'start', where, 0);
      const stop = int(o, 'stop', where, 0);
      return (tokens) =>
        tokens.map((t) => {
          const chars = Array.from(t);
          let a = 0;
          while (a < start && a < chars.length && chars[a] === content) a++;
          let b = chars.length;
          while (chars.length - b < stop && b > a && chars[b - 1] === content) b--;
          return chars.slice(a, b).join('');
        });
    }
    case 'Metaspace': {
      const rep = str(o, 'replacement', where, '▁');
      const legacy = o.add_prefix_space;
      const scheme = str(o, 'prepend_scheme', where, legacy === false ? 'never' : 'always');
      // The "▁" marking the start of the text was added by the pre-tokenizer: drop it once.
      return (tokens) =>
        tokens.map((t, i) => {
          const spaced = t.replaceAll(rep, ' ');
          return i === 0 && scheme !== 'never' && spaced.startsWith(' ') ? spaced.slice(1) : spaced;
        });
    }
    case 'ByteLevel':
      return byteLevel; // its add_prefix_space/trim_offsets only affect offsets when decoding
    default:
      return unsupported(where, 'decoder', type, KNOWN);
  }
}
