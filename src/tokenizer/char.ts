/** Plain-JSON form of a {@link CharTokenizer}, as written next to a checkpoint. */
export interface CharTokenizerJSON {
  /** Tokenizer kind, so a loader can tell tokenizers apart. */
  readonly type: 'char';
  /** The vocabulary; the token id of `chars[i]` is `i`. */
  readonly chars: readonly string[];
}

/** How many offending characters or ids an error message lists before it says "and N more". */
const MAX_LISTED = 10;

/** Code-point order; the default string sort compares UTF-16 units and misplaces astral characters. */
function byCodePoint(a: string, b: string): number {
  return (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0);
}

/** True when `s` is exactly one Unicode code point (one or two UTF-16 units). */
function isOneCodePoint(s: string): boolean {
  if (s.length === 0 || s.length > 2) return false;
  const cp = s.codePointAt(0) ?? 0;
  return s.length === (cp > 0xffff ? 2 : 1);
}

function listed(items: readonly string[]): string {
  const head = items.slice(0, MAX_LISTED).join(', ');
  return items.length > MAX_LISTED ? `${head} and ${items.length - MAX_LISTED} more` : head;
}

/**
 * Character-level tokenizer: one token per Unicode code point, as in nanoGPT's
 * shakespeare_char. Ids are positions in the sorted vocabulary, so the same text always
 * yields the same ids. An astral character (e.g. an emoji) is one token, not two surrogates.
 *
 * `encode` returns a plain `number[]`; wrap it in `Int32Array.from(...)` when a typed array
 * is wanted (TextDataset accepts either).
 */
export class CharTokenizer {
  private readonly vocab: readonly string[];
  private readonly index: ReadonlyMap<string, number>;

  /** Builds a tokenizer from an explicit vocabulary; the id of `chars[i]` is `i`. */
  constructor(chars: readonly string[]) {
    if (!Array.isArray(chars) || chars.length === 0) {
      throw new Error('CharTokenizer needs a non-empty array of characters: build it with CharTokenizer.fromText(text).');
    }
    const index = new Map<string, number>();
    chars.forEach((c: unknown, i) => {
      if (typeof c !== 'string' || !isOneCodePoint(c)) {
        throw new Error(
          `CharTokenizer vocabulary entry ${i} is ${JSON.stringify(c)}, not a single character: ` +
            'every entry must be exactly one Unicode code point.',
        );
      }
      if (index.has(c)) {
        throw new Error(
          `CharTokenizer vocabulary lists ${JSON.stringify(c)} twice (entries ${index.get(c)} and ${i}): ` +
            'each character may appear only once.',
        );
      }
      index.set(c, i);
    });
    this.vocab = Object.freeze([...chars]);
    this.index = index;
  }

  /** The distinct characters of `text`, sorted by code point. */
  static fromText(text: string): CharTokenizer {
    if (typeof text !== 'string') {
      throw new Error(`CharTokenizer.fromText needs a string, got ${typeof text}.`);
    }
    if (text.length === 0) {
      throw new Error('CharTokenizer.fromText got an empty text: pass the training corpus to build the vocabulary.');
    }
    // Iterating a string yields code points, so surrogate pairs stay together.
    return new CharTokenizer([...new Set(text)].sort(byCodePoint));
  }

  /** Rebuilds a tokenizer from {@link toJSON}'s output, checking its shape. */
  static fromJSON(json: unknown): CharTokenizer {
    if (json == null || typeof json !== 'object' || Array.isArray(json)) {
      throw new Error(
        `CharTokenizer.fromJSON needs an object like { type: 'char', chars: [...] }, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}.`,
      );
    }
    const { type, chars } = json as { type?: unknown; chars?: unknown };
    if (type !== 'char') {
      throw new Error(
        `CharTokenizer.fromJSON: expected type "char", got ${JSON.stringify(type) ?? 'undefined'}: ` +
          'this JSON describes another kind of tokenizer.',
      );
    }
    if (!Array.isArray(chars)) {
      throw new Error('CharTokenizer.fromJSON: "chars" must be an array of single-character strings.');
    }
    return new CharTokenizer(chars as readonly string[]);
  }

  /** Number of distinct tokens; the model's vocabSize. */
  get vocabSize(): number {
    return this.vocab.length;
  }

  /** The vocabulary in id order. */
  get chars(): readonly string[] {
    return this.vocab;
  }

  /** One id per code point of `text`; throws, naming them, if any character is not in the vocabulary. */
  encode(text: string): number[] {
    if (typeof text !== 'string') {
      throw new Error(`CharTokenizer.encode needs a string, got ${typeof text}.`);
    }
    const ids: number[] = [];
    let unknown: Set<string> | undefined;
    for (const c of text) {
      const id = this.index.get(c);
      if (id === undefined) (unknown ??= new Set()).add(c);
      else ids.push(id);
    }
    if (unknown) {
      const chars = [...unknown].map((c) => JSON.stringify(c));
      throw new Error(
        `Characters not in the vocabulary: ${listed(chars)} (the tokenizer was built from another text; ` +
          'rebuild it with CharTokenizer.fromText on a corpus containing them).',
      );
    }
    return ids;
  }

  /** The text for a sequence of ids; throws, naming them, if any id is not in [0, vocabSize). */
  decode(ids: ArrayLike<number>): string {
    if (ids == null || typeof ids.length !== 'number') {
      throw new Error('CharTokenizer.decode needs an array (or typed array) of token ids.');
    }
    const out = new Array<string>(ids.length);
    const bad: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const c = Number.isInteger(id) ? this.vocab[id] : undefined;
      if (c === undefined) bad.push(`${String(id)} at position ${i}`);
      else out[i] = c;
    }
    if (bad.length > 0) {
      throw new Error(
        `Token ids out of range: ${listed(bad)}; ids must be integers in [0, ${this.vocab.length - 1}] ` +
          `for this vocabulary of ${this.vocab.length} characters (was the model trained with another tokenizer?).`,
      );
    }
    return out.join('');
  }

  /** Plain JSON; `JSON.stringify(tokenizer)` uses it. */
  toJSON(): CharTokenizerJSON {
    return { type: 'char', chars: [...this.vocab] };
  }
}
