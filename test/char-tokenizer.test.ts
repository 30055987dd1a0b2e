import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CharTokenizer } from '../src/tokenizer/char.js';

import { HAVE_SHAKESPEARE, SHAKESPEARE_PATH, warnIfNoShakespeare } from './corpus.js';

warnIfNoShakespeare('char-tokenizer.test.ts');

describe('CharTokenizer', () => {
  it('builds a sorted vocabulary and exact ids for a hand-made text', () => {
    const tok = CharTokenizer.fromText('hello');
    // distinct chars h, e, l, o sorted by code point: e(101) h(104) l(108) o(111)
    expect(tok.chars).toEqual(['e', 'h', 'l', 'o']);
    expect(tok.vocabSize).toBe(4);
    // h→1, e→0, l→2, l→2, o→3
    expect(tok.encode('hello')).toEqual([1, 0, 2, 2, 3]);
    expect(tok.encode('olleh')).toEqual([3, 2, 2, 0, 1]);
    expect(tok.encode('')).toEqual([]);
    expect(tok.decode([3, 0, 2])).toBe('oel');
    expect(tok.decode(new Int32Array([1, 0, 2, 2, 3]))).toBe('hello');
  });

  it('treats an astral character as one token and sorts by code point, not UTF-16 unit', () => {
    // '😀' is U+1F600 (surrogates D83D DE00); '！' is U+FF01. By code point: 'a'(0x61) < U+FF01 < U+1F600,
    // whereas a UTF-16 unit sort would put the emoji (0xD83D) before U+FF01.
    const text = '😀！a😀';
    const tok = CharTokenizer.fromText(text);
    expect(tok.chars).toEqual(['a', '！', '😀']);
    expect(tok.encode(text)).toEqual([2, 1, 0, 2]);
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('round-trips arbitrary text from its own vocabulary', () => {
    const text = 'First Citizen:\nBefore we proceed any further, hear me speak.\n\tÉté — 日本 🎭!';
    const tok = CharTokenizer.fromText(text);
    const ids = tok.encode(text);
    // one id per code point: the emoji is 1 token although text.length counts it as 2
    expect(ids.length).toBe([...text].length);
    expect(ids.length).toBe(text.length - 1);
    expect(tok.decode(ids)).toBe(text);
  });

  it('names the unknown characters when encoding', () => {
    const tok = CharTokenizer.fromText('abc');
    expect(() => tok.encode('abéücé')).toThrow(
      'Characters not in the vocabulary: "é", "ü" (the tokenizer was built from another text; ' +
        'rebuild it with CharTokenizer.fromText on a corpus containing them).',
    );
    // control characters are shown escaped so they are visible in the message
    expect(() => tok.encode('a\nb')).toThrow('Characters not in the vocabulary: "\\n"');
  });

  it('rejects out-of-range and non-integer ids when decoding', () => {
    const tok = CharTokenizer.fromText('hello'); // vocabSize 4 → valid ids 0..3
    expect(() => tok.decode([0, 4])).toThrow('Token ids out of range: 4 at position 1; ids must be integers in [0, 3]');
    expect(() => tok.decode([-1])).toThrow('-1 at position 0');
    expect(() => tok.decode([1.5])).toThrow('1.5 at position 0');
  });

  it('round-trips through JSON, keeping the id order', () => {
    const tok = CharTokenizer.fromText('to be, or not to be 🎭');
    const json = JSON.parse(JSON.stringify(tok)) as unknown;
    expect(json).toEqual({ type: 'char', chars: [' ', ',', 'b', 'e', 'n', 'o', 'r', 't', '🎭'] });
    const back = CharTokenizer.fromJSON(json);
    expect(back.chars).toEqual(tok.chars);
    expect(back.encode('not 🎭')).toEqual([4, 5, 7, 0, 8]);
    // an explicit order is kept, not re-sorted: ids are what a trained model expects
    expect(CharTokenizer.fromJSON({ type: 'char', chars: ['z', 'a'] }).encode('az')).toEqual([1, 0]);
  });

  it('validates the JSON shape with clear errors', () => {
    expect(() => CharTokenizer.fromJSON(null)).toThrow("needs an object like { type: 'char', chars: [...] }, got null");
    expect(() => CharTokenizer.fromJSON([])).toThrow('got an array');
    expect(() => CharTokenizer.fromJSON({ type: 'bpe', chars: ['a'] })).toThrow('expected type "char", got "bpe"');
    expect(() => CharTokenizer.fromJSON({ type: 'char' })).toThrow('"chars" must be an array');
    expect(() => CharTokenizer.fromJSON({ type: 'char', chars: [] })).toThrow('non-empty array');
    expect(() => CharTokenizer.fromJSON({ type: 'char', chars: ['a', 'bc'] })).toThrow(
      'entry 1 is "bc", not a single character',
    );
    expect(() => CharTokenizer.fromJSON({ type: 'char', chars: ['a', 7] })).toThrow('entry 1 is 7');
    expect(() => CharTokenizer.fromJSON({ type: 'char', chars: ['a', 'b', 'a'] })).toThrow(
      'lists "a" twice (entries 0 and 2)',
    );
  });

  it('refuses an empty text', () => {
    expect(() => CharTokenizer.fromText('')).toThrow('empty text');
  });

  it.skipIf(!HAVE_SHAKESPEARE)('has the 65-character vocabulary of Tiny Shakespeare', () => {
    const text = readFileSync(SHAKESPEARE_PATH, 'utf8');
    const tok = CharTokenizer.fromText(text);
    expect(tok.vocabSize).toBe(65);
    // newline (10) and space (32) come first, lowercase z last, as in nanoGPT's meta.pkl
    expect(tok.chars.slice(0, 2)).toEqual(['\n', ' ']);
    expect(tok.chars[64]).toBe('z');
    expect(tok.chars.join('')).toBe("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    const head = text.slice(0, 14); // "First Citizen:"
    // F=18 i=47 r=56 s=57 t=58 ' '=1 C=15 z=64 e=43 n=52 :=10 (positions in the string above)
    expect(tok.encode(head)).toEqual([18, 47, 56, 57, 58, 1, 15, 47, 58, 47, 64, 43, 52, 10]);
  });
});
