/**
 * Turns a stream of token ids (e.g. from generate) into a stream of text pieces, for printing
 * as tokens arrive, in time linear in the number of tokens.
 *
 * Decoding each token alone would break characters whose UTF-8 bytes are split across
 * byte-level BPE tokens, and re-decoding the whole sequence per token is quadratic. So, as
 * Hugging Face's text-generation-inference does, only a short window is decoded: the tokens
 * since the last emitted boundary plus a few already-shown tokens before it as context, and the
 * new text is the window's text minus the text of its context part.
 */

/** U+FFFD, what a byte-level decoder produces for an incomplete UTF-8 sequence. */
const REPLACEMENT = '\uFFFD';

/**
 * How many pending tokens may end in U+FFFD before they are shown anyway: a UTF-8 character is
 * at most 4 bytes, so a longer run can only be bytes that are invalid for good.
 */
const MAX_PENDING = 8;

/** How many already-shown tokens are decoded with the pending ones, as context. */
const CONTEXT = 4;

/**
 * Incremental detokenizer: `push` one id at a time and get the text it adds (possibly ''),
 * then `flush` at the end. Each push decodes at most CONTEXT + MAX_PENDING tokens, so the total
 * work is linear in the sequence length.
 */
export class IncrementalDecoder {
  private readonly ids: number[] = [];
  /** Start of the decoded window (context tokens before `shown`). */
  private prefix = 0;
  /** Tokens before this index have had their text yielded. */
  private shown = 0;

  constructor(private readonly decode: (ids: number[]) => string) {
    if (typeof decode !== 'function') {
      throw new Error('IncrementalDecoder needs decode: (ids) => string, e.g. (ids) => tokenizer.decode(ids).');
    }
  }

  /** Adds one token id and returns the text it completes ('' while a character is still split). */
  push(id: number): string {
    this.ids.push(id);
    return this.take(false);
  }

  /** Returns whatever is still held (an incomplete character shows as U+FFFD). */
  flush(): string {
    return this.take(true);
  }

  private take(force: boolean): string {
    const n = this.ids.length;
    if (n === this.shown) return '';
    const before = this.decode(this.ids.slice(this.prefix, this.shown));
    const text = this.decode(this.ids.slice(this.prefix, n));
    const pending = n - this.shown;
    // Wait for the rest of a split character, unless it cannot come any more.
    if (!force && text.endsWith(REPLACEMENT) && pending < MAX_PENDING) return '';
    // A tokenizer whose window text does not extend its context text (e.g. one that strips a
    // leading space at the start) gets the whole window's text minus as many characters.
    const piece = text.startsWith(before) ? text.slice(before.length) : text.slice(Math.min(before.length, text.length));
    this.shown = n;
    this.prefix = Math.max(0, n - CONTEXT);
    // Keep the id list short: only the context window is ever read again.
    if (this.prefix > 1024) {
      this.ids.splice(0, this.prefix);
      this.shown -= this.prefix;
      this.prefix = 0;
    }
    return piece;
  }
}

/**
 * Yields the text each token adds. While the decoded text ends in U+FFFD (a character split
 * across tokens) the piece is held back until a later token completes it or the stream ends.
 */
export async function* streamText(
  tokens: AsyncIterable<number> | Iterable<number>,
  decode: (ids: number[]) => string,
): AsyncGenerator<string, void, undefined> {
  if (typeof decode !== 'function') {
    throw new Error('streamText needs decode: (ids) => string, e.g. (ids) => tokenizer.decode(ids).');
  }
  const decoder = new IncrementalDecoder(decode);
  for await (const id of tokens) {
    const piece = decoder.push(id);
    if (piece.length > 0) yield piece;
  }
  const rest = decoder.flush();
  if (rest.length > 0) yield rest;
}
