/**
 * The "BPE" model of tokenizer.json: a vocabulary (token string ↦ id) and ranked merges.
 * A piece is split into characters (each looked up, else its UTF-8 bytes as "<0xNN>" tokens
 * when byte_fallback is on, else the unk token), then the adjacent pair with the lowest merge
 * rank is merged, leftmost first, until no listed pair remains (Sennrich et al. 2016, as
 * Hugging Face applies it; see mergeQueue.ts).
 */
import { arr, bad, bool, isObject, obj, str, type JSONObject } from './json.js';
import { mergeIds } from './mergeQueue.js';

/** An encoder of one pre-tokenized piece into ids. */
export interface TokenizerModel {
  /** Token string ↦ id. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Ids of one piece. */
  encodePiece(piece: string): number[];
}

/** Cache bounds: entries, and the longest piece worth caching. */
const MAX_CACHE = 100_000;
const MAX_CACHED_PIECE = 256;

/** Hex "<0xNN>" name of a byte, as SentencePiece and Hugging Face spell byte tokens. */
export function byteTokenName(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}

function readMerges(o: JSONObject, where: string): [string, string][] {
  return arr(o, 'merges', where).map((m, i) => {
    // Older files write "left right"; newer ones [left, right] (which allows spaces in tokens).
    if (typeof m === 'string') {
      const cut = m.indexOf(' ', 1);
      if (cut < 0) bad(where, `merge ${i} (${JSON.stringify(m)}) is not "left right".`);
      return [m.slice(0, cut), m.slice(cut + 1)];
    }
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
    return bad(where, `merge ${i} must be "left right" or ["left", "right"], got ${JSON.stringify(m)}.`);
  });
}

/** Hugging Face's BPE model. */
export class BPEModel implements TokenizerModel {
  readonly vocab: ReadonlyMap<string, number>;
  /** "a b" ids key (a * 2^21 + b, exact in a double) ↦ rank and merged id. */
  private readonly merges = new Map<number, { rank: number; id: number }>();
  private readonly unkId: number | undefined;
  private readonly fuseUnk: boolean;
  private readonly byteFallback: boolean;
  private readonly ignoreMerges: boolean;
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly byteIds: (number | undefined)[];
  private cache = new Map<string, number[]>();

  constructor(json: unknown, where: string) {
    const o = obj(json, where, '"model"');
    if (o.dropout != null && o.dropout !== 0) bad(where, 'BPE "dropout" is not supported by tinygpt (it makes encoding random); set it to null.');
    const vocabJson = obj(o.vocab, where, 'BPE "vocab"');
    const vocab = new Map<string, number>();
    for (const [tok, id] of Object.entries(vocabJson)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) bad(where, `vocab entry ${JSON.stringify(tok)} has id ${JSON.stringify(id)}; ids must be non-negative integers.`);
      vocab.set(tok, id);
    }
    this.vocab = vocab;
    this.prefix = str(o, 'continuing_subword_prefix', where, '');
    this.suffix = str(o, 'end_of_word_suffix', where, '');
    const unk = o.unk_token == null ? undefined : str(o, 'unk_token', where);
    this.unkId = unk === undefined ? undefined : vocab.get(unk);
    if (unk !== undefined && this.unkId === undefined) bad(where, `BPE unk_token ${JSON.stringify(unk)} is not in the vocab.`);
    this.fuseUnk = bool(o, 'fuse_unk', where, false);
    this.byteFallback = bool(o, 'byte_fallback', where, false);
    this.ignoreMerges = bool(o, 'ignore_merges', where, false);
    this.byteIds = Array.from({ length: 256 }, (_, b) => vocab.get(byteTokenName(b)));
    readMerges(o, where).forEach(([a, b], rank) => {
      const ia = vocab.get(a);
      const ib = vocab.get(b);
      const merged = a + (this.prefix && b.startsWith(this.prefix) ? b.slice(this.prefix.length) : b);
      const id = vocab.get(merged);
      if (ia === undefined || ib === undefined || id === undefined) {
        bad(where, `merge ${rank} (${JSON.stringify(a)}, ${JSON.stringify(b)}) uses or makes a token missing from the vocab.`);
      }
      const key = ia * 2097152 + ib;
      if (!this.merges.has(key)) this.merges.set(key, { rank, id });
    });
  }

  /** Whether a JSON "model" entry is a BPE model (files may omit "type" when merges are present). */
  static describes(json: unknown): boolean {
    return isObject(json) && (json.type === 'BPE' || (json.type == null && json.merges !== undefined));
  }

  encodePiece(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit !== undefined) return hit;
    const ids = this.encodeUncached(piece);
    if (piece.length > MAX_CACHED_PIECE) return ids; // a whole paragraph (no pre-tokenizer) rarely repeats
    if (this.cache.size >= MAX_CACHE) this.cache = new Map();
    this.cache.set(piece, ids);
    return ids;
  }

  private encodeUncached(piece: string): number[] {
    if (piece.length === 0) return [];
    if (this.ignoreMerges) {
      const whole = this.vocab.get(piece);
      if (whole !== undefined) return [whole];
    }
    const chars = Array.from(piece);
    const ids: number[] = [];
    let lastUnk = false;
    chars.forEach((c, i) => {
      const tok = (i > 0 ? this.prefix : '') + c + (i === chars.length - 1 ? this.suffix : '');
      const id = this.vocab.get(tok);
      if (id !== undefined) {
        ids.push(id);
        lastUnk = false;
        return;
      }
      if (this.byteFallback) {
        const bytes = Array.from(new TextEncoder().encode(c), (b) => this.byteIds[b]);
        if (bytes.every((b) => b !== undefined)) {
          ids.push(...(bytes as number[]));
          lastUnk = false;
          return;
        }
      }
      if (this.unkId === undefined) return; // no unk token: the character is dropped, as in Hugging Face
      if (!(this.fuseUnk && lastUnk)) ids.push(this.unkId);
      lastUnk = true;
    });
    return mergeIds(ids, (a, b) => this.merges.get(a * 2097152 + b));
  }
}
