/**
 * The saved form of a BPE tokenizer: plain JSON with the merges and special tokens, and the
 * checks that turn untrusted JSON into a tokenizer description or a clear error.
 */
import { MERGE_BASE } from './bpe-merges.js';

/** Value of the `type` field that marks a tinygpt BPE tokenizer file. */
export const BPE_JSON_TYPE = 'tinygpt-bpe';

/**
 * A BPE tokenizer as plain JSON. Its vocabulary is ids 0..vocabSize-1: 256 byte tokens, then
 * one token per merge (merge r is id 256 + r), then the special tokens.
 */
export interface BPETokenizerJSON {
  /** Always 'tinygpt-bpe'. */
  readonly type: typeof BPE_JSON_TYPE;
  /** Format version; currently 1. */
  readonly version: 1;
  /** Pre-tokenization pattern; only 'gpt2' (GPT-2's regex) exists. */
  readonly pattern: 'gpt2';
  /**
   * Token id of each byte 0..255 (a permutation of 0..255). Omitted means byte b is id b,
   * as for a trained tokenizer; GPT-2's files order the byte tokens differently.
   */
  readonly byteIds?: readonly number[];
  /** Merge r fuses the pair [left id, right id] into token id 256 + r; earlier merges apply first. */
  readonly merges: readonly (readonly [number, number])[];
  /** Special token text ↦ id; the ids are exactly 256 + merges.length, 256 + merges.length + 1, …. */
  readonly specialTokens: Readonly<Record<string, number>>;
  /** Jinja chat template used by applyChatTemplate (absent: the default ChatML-style one). */
  readonly chatTemplate?: string;
}

/** A checked description with every field present. */
export interface BPEDescription {
  /** Token id of each byte. */
  readonly byteIds: readonly number[];
  /** Merges in rank order. */
  readonly merges: readonly (readonly [number, number])[];
  /** Special tokens in id order. */
  readonly specials: readonly string[];
  /** Jinja chat template, when one is stored with the tokenizer. */
  readonly chatTemplate?: string;
}

function fail(problem: string): never {
  throw new Error(`BPETokenizer.fromJSON: ${problem}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Validates a parsed (or JSON text) tokenizer file; every error says what is wrong and how to fix it. */
export function parseBPEJSON(input: unknown): BPEDescription {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch (e) {
      fail(`the text is not valid JSON (${(e as Error).message}); pass the contents of a file written from toJSON().`);
    }
  }
  if (!isRecord(value)) fail('expected an object as produced by toJSON(), got ' + (Array.isArray(value) ? 'an array' : typeof value) + '.');
  if (value.type !== BPE_JSON_TYPE) {
    fail(`field "type" must be "${BPE_JSON_TYPE}", got ${JSON.stringify(value.type)}; is this a tinygpt BPE tokenizer file?`);
  }
  if (value.version !== 1) fail(`unsupported version ${JSON.stringify(value.version)}; this tinygpt reads version 1.`);
  if (value.pattern !== 'gpt2') fail(`unknown pre-tokenization pattern ${JSON.stringify(value.pattern)}; only "gpt2" is supported.`);

  let byteIds: number[];
  if (value.byteIds === undefined) {
    byteIds = Array.from({ length: 256 }, (_, b) => b);
  } else {
    const raw = value.byteIds;
    if (!Array.isArray(raw) || raw.length !== 256) fail('"byteIds" must be an array of 256 ids (or be omitted for byte b = id b).');
    const seen = new Set<number>();
    for (const id of raw as unknown[]) {
      if (!isId(id) || id >= 256 || seen.has(id)) {
        fail(`"byteIds" must be a permutation of 0..255; ${JSON.stringify(id)} is out of range or repeated.`);
      }
      seen.add(id);
    }
    byteIds = raw as number[];
  }

  if (!Array.isArray(value.merges)) fail('"merges" must be an array of [leftId, rightId] pairs.');
  const merges: [number, number][] = [];
  const seenPairs = new Map<string, number>();
  (value.merges as unknown[]).forEach((m, r) => {
    const id = MERGE_BASE + r;
    if (!Array.isArray(m) || m.length !== 2 || !isId(m[0]) || !isId(m[1])) {
      fail(`merge ${r} must be a pair [leftId, rightId] of non-negative integers, got ${JSON.stringify(m)}.`);
    }
    // A merge may only use tokens that exist before it: bytes and earlier merges.
    if (m[0] >= id || m[1] >= id) {
      fail(`merge ${r} ${JSON.stringify(m)} uses an id ≥ ${id}, a token that does not exist yet; merges must be listed in creation order.`);
    }
    const pairText = `${m[0]},${m[1]}`;
    const earlier = seenPairs.get(pairText);
    if (earlier !== undefined) fail(`merge ${r} ${JSON.stringify(m)} repeats merge ${earlier}; each pair may be merged once.`);
    seenPairs.set(pairText, r);
    merges.push([m[0], m[1]]);
  });

  if (!isRecord(value.specialTokens)) fail('"specialTokens" must be an object mapping token text to id, e.g. {"<|endoftext|>": 1024} ({} for none).');
  const first = MERGE_BASE + merges.length;
  const entries = Object.entries(value.specialTokens);
  const specials: string[] = new Array<string>(entries.length);
  for (const [text, id] of entries) {
    if (text.length === 0) fail('a special token must not be the empty string.');
    if (!isId(id) || id < first || id >= first + entries.length || specials[id - first] !== undefined) {
      fail(
        `special token ${JSON.stringify(text)} has id ${JSON.stringify(id)}; the ${entries.length} special ids must be ` +
          `exactly ${first}..${first + entries.length - 1} (right after the ${merges.length} merges), each used once.`,
      );
    }
    specials[id - first] = text;
  }
  if (value.chatTemplate !== undefined && typeof value.chatTemplate !== 'string') {
    fail('"chatTemplate" must be a Jinja template string (or be omitted).');
  }
  const chatTemplate = value.chatTemplate as string | undefined;
  return chatTemplate === undefined ? { byteIds, merges, specials } : { byteIds, merges, specials, chatTemplate };
}

/** The JSON form of a description (byteIds omitted when it is the identity). */
export function toBPEJSON(d: BPEDescription): BPETokenizerJSON {
  const identity = d.byteIds.every((id, b) => id === b);
  // fromEntries defines own properties, so even a token named "__proto__" is stored as data.
  const specialTokens = Object.fromEntries(d.specials.map((s, i) => [s, MERGE_BASE + d.merges.length + i] as const));
  return {
    type: BPE_JSON_TYPE,
    version: 1,
    pattern: 'gpt2',
    ...(identity ? {} : { byteIds: [...d.byteIds] }),
    merges: d.merges.map(([a, b]) => [a, b] as const),
    specialTokens,
    ...(d.chatTemplate === undefined ? {} : { chatTemplate: d.chatTemplate }),
  };
}
