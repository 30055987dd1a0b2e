/**
 * Large corpora, read and tokenized as a stream: the file is decoded in pieces of about
 * `chunkBytes` and each piece is encoded on its own, its ids appended to a growing Int32Array,
 * so memory holds the ids (4 bytes a token) and one piece of text, never the whole text nor a
 * JavaScript array of numbers.
 *
 * Pieces are cut only where a non-space character is followed by whitespace. GPT-2-style
 * pre-tokenization never joins across such a point (a letter, digit or punctuation run ends at
 * whitespace, and the whitespace run starts a piece in the whole text too), so the ids equal
 * those of encoding the whole text at once, for the char and the BPE tokenizers.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { CharTokenizer } from '../tokenizer/char.js';

/** Default bytes read per piece. */
export const CORPUS_CHUNK_BYTES = 1 << 20;

/** What a streamed encode needs of a tokenizer. */
export interface ChunkEncoder {
  encode(text: string): ArrayLike<number>;
}

/** The last index i with text[i - 1] not whitespace and text[i] whitespace; -1 when none. */
function safeCut(text: string): number {
  for (let i = text.length - 1; i > 0; i--) {
    if (/\s/u.test(text[i]) && !/\s/u.test(text[i - 1])) return i;
  }
  return -1;
}

async function checkFile(file: string): Promise<void> {
  let size: number;
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw new Error(`${file} is a folder, not a text file: pass the path of the file itself.`);
    size = s.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`Text file not found: ${file}. Check the path.`, { cause: e });
    if (code === undefined) throw e;
    throw new Error(`Could not read ${file}: ${(e as Error).message}.`, { cause: e });
  }
  if (size === 0) throw new Error(`Text file ${file} is empty: a model needs a corpus to learn from.`);
}

/**
 * The text of a UTF-8 file in pieces (a byte-order mark is dropped), each ending where
 * tokenization may safely be cut. Errors name the file: missing, a folder, empty, not UTF-8.
 */
export async function* readTextChunks(file: string, chunkBytes = CORPUS_CHUNK_BYTES): AsyncGenerator<string, void, undefined> {
  await checkFile(file);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let carry = '';
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
    } catch (e) {
      throw new Error(`${file} is not valid UTF-8 text: convert it to UTF-8 (e.g. with iconv) and try again.`, { cause: e });
    }
  };
  for await (const bytes of createReadStream(file, { highWaterMark: chunkBytes })) {
    const text = carry + decode(bytes as Buffer);
    const cut = safeCut(text);
    // Without a safe cut (no whitespace at all), keep reading until there is one.
    if (cut <= 0) {
      carry = text;
      continue;
    }
    carry = text.slice(cut);
    yield text.slice(0, cut);
  }
  const rest = carry + decode();
  if (rest.length > 0) yield rest;
}

/** Ids appended in place, growing by half again when full, trimmed at the end. */
class IdBuffer {
  private ids = new Int32Array(1 << 16);
  length = 0;

  push(more: ArrayLike<number>): void {
    if (this.length + more.length > this.ids.length) {
      const grown = new Int32Array(Math.max(this.length + more.length, Math.ceil(this.ids.length * 1.5)));
      grown.set(this.ids.subarray(0, this.length));
      this.ids = grown;
    }
    for (let i = 0; i < more.length; i++) this.ids[this.length + i] = more[i];
    this.length += more.length;
  }

  take(): Int32Array {
    return this.ids.length === this.length ? this.ids : this.ids.slice(0, this.length);
  }
}

/** Encodes an in-memory text in pieces of about `chunkChars` (same ids as encoding it whole, no number[] of the whole text). */
export function encodeText(text: string, tokenizer: ChunkEncoder, chunkChars = CORPUS_CHUNK_BYTES): Int32Array {
  const out = new IdBuffer();
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + chunkChars);
    if (end < text.length) {
      const cut = safeCut(text.slice(start, end));
      if (cut > 0) end = start + cut;
      else end = text.length; // no safe cut in this window: encode the rest at once
    }
    out.push(tokenizer.encode(text.slice(start, end)));
    start = end;
  }
  return out.take();
}

/** Encodes a file piece by piece into one Int32Array of ids (same ids as encoding it whole). */
export async function encodeTextFile(file: string, tokenizer: ChunkEncoder, chunkBytes = CORPUS_CHUNK_BYTES): Promise<Int32Array> {
  const out = new IdBuffer();
  for await (const piece of readTextChunks(file, chunkBytes)) out.push(tokenizer.encode(piece));
  return out.take();
}

/** A character tokenizer over every character of a file, read as a stream. */
export async function charTokenizerOfFile(file: string, chunkBytes = CORPUS_CHUNK_BYTES): Promise<CharTokenizer> {
  const chars = new Set<string>();
  for await (const piece of readTextChunks(file, chunkBytes)) for (const c of piece) chars.add(c);
  return new CharTokenizer([...chars].sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0)));
}

/** The first `maxChars` characters of a file (all of it when shorter), e.g. to train BPE merges on. */
export async function readTextPrefix(file: string, maxChars: number, chunkBytes = CORPUS_CHUNK_BYTES): Promise<string> {
  const parts: string[] = [];
  let n = 0;
  for await (const piece of readTextChunks(file, chunkBytes)) {
    parts.push(piece);
    n += piece.length;
    if (n >= maxChars) break;
  }
  return parts.join('').slice(0, maxChars);
}
