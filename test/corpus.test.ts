import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { charTokenizerOfFile, encodeText, encodeTextFile, readTextChunks, readTextPrefix } from '../src/data/corpus.js';
import { BPETokenizer } from '../src/tokenizer/bpe.js';
import { CharTokenizer } from '../src/tokenizer/char.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-corpus-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Multi-byte UTF-8 (é: 2 bytes, 世: 3, 🙂: 4 and a surrogate pair), runs of spaces and newlines,
// and contractions, so that tiny chunks cut through characters and whitespace runs alike.
const TEXT = "Héllo  wörld,\n\n  it's 世界 🙂🙂!\tDon't stop\n\n\nthe end.   \n".repeat(30);
const file = join(scratch, 'corpus.txt');
writeFileSync(file, `\uFEFF${TEXT}`); // with a byte-order mark, which is dropped

describe('streamed corpus', () => {
  it('pieces join back to the text, each cut between a non-space and whitespace', async () => {
    const pieces: string[] = [];
    for await (const p of readTextChunks(file, 7)) pieces.push(p);
    expect(pieces.length).toBeGreaterThan(50);
    expect(pieces.join('')).toBe(TEXT);
    for (const p of pieces.slice(0, -1)) expect(p).toMatch(/\S$/u);
    expect(await readTextPrefix(file, 20, 7)).toBe(TEXT.slice(0, 20));
  });

  it('encodes to exactly the ids of the whole text, for the char and the GPT-2-style BPE tokenizers', async () => {
    const char = CharTokenizer.fromText(TEXT);
    expect((await charTokenizerOfFile(file, 5)).chars).toEqual(char.chars);
    const bpe = BPETokenizer.train(TEXT, 300);
    for (const tok of [char, bpe]) {
      const whole = tok.encode(TEXT);
      for (const chunk of [5, 13, 64, 1 << 20]) {
        expect(Array.from(await encodeTextFile(file, tok, chunk))).toEqual(whole);
        expect(Array.from(encodeText(TEXT, tok, chunk))).toEqual(whole);
      }
    }
  });

  it('names the file when it is missing, a folder, empty or not UTF-8', async () => {
    const drain = async (f: string) => {
      for await (const _ of readTextChunks(f)) void _;
    };
    await expect(drain(join(scratch, 'nope.txt'))).rejects.toThrow(`Text file not found: ${join(scratch, 'nope.txt')}. Check the path.`);
    await expect(drain(scratch)).rejects.toThrow(`${scratch} is a folder, not a text file: pass the path of the file itself.`);
    writeFileSync(join(scratch, 'empty.txt'), '');
    await expect(drain(join(scratch, 'empty.txt'))).rejects.toThrow(/is empty: a model needs a corpus/);
    writeFileSync(join(scratch, 'latin1.txt'), Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6e])); // "café n" in Latin-1
    await expect(drain(join(scratch, 'latin1.txt'))).rejects.toThrow(/latin1\.txt is not valid UTF-8 text: convert it to UTF-8/);
  });
});
