/**
 * Turns a stream of token ids (e.g. from generate) into a stream of text pieces, for printing
 * as tokens arrive. Each piece is the new suffix of decode(all ids so far): decoding the whole
 * sequence rather than each token alone keeps multi-token characters and merges intact.
 */

/** U+FFFD, what a byte-level decoder produces for an incomplete UTF-8 sequence. */
const REPLACEMENT = '\uFFFD';

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
  const ids: number[] = [];
  let shown = 0;
  let text = '';
  for await (const id of tokens) {
    ids.push(id);
    text = decode(ids.slice());
    if (text.endsWith(REPLACEMENT)) continue;
    if (text.length > shown) {
      yield text.slice(shown);
      shown = text.length;
    }
  }
  if (text.length > shown) yield text.slice(shown);
}
