import { describe, expect, it } from 'vitest';
import { gpt2ByteToChar, gpt2CharToByte, gpt2StringToBytes, utf8Bytes, utf8Decode } from '../src/tokenizer/bpe-bytes.js';
import { createRng } from '../src/util/rng.js';

describe('GPT-2 byte alphabet', () => {
  it('maps printable Latin-1 to itself and the other 68 bytes to U+0100 onwards', () => {
    const m = gpt2ByteToChar();
    expect(m.length).toBe(256);
    expect(new Set(m).size).toBe(256);
    expect(m[0x21]).toBe('!');
    expect(m[0x7e]).toBe('~');
    expect(m[0xe9]).toBe('é');
    // Non-printable bytes in order: 0x00..0x20 are the first 33 (U+0100..U+0120), so space
    // (0x20) is the 33rd → U+0100 + 32 = U+0120 'Ġ', and newline (0x0a) → U+010A 'Ċ'.
    expect(m[0x00]).toBe('\u0100');
    expect(m[0x20]).toBe('Ġ');
    expect(m[0x0a]).toBe('Ċ');
    // Then 0x7f..0xa0 (34 bytes) → U+0121..U+0142, and 0xad (soft hyphen) is the 68th → U+0143.
    expect(m[0x7f]).toBe('\u0121');
    expect(m[0xa0]).toBe('\u0142');
    expect(m[0xad]).toBe('\u0143');
  });

  it('inverts, and reads alphabet strings back to bytes', () => {
    const inv = gpt2CharToByte();
    gpt2ByteToChar().forEach((c, b) => expect(inv.get(c)).toBe(b));
    expect(gpt2StringToBytes('Ġthe')).toEqual([0x20, 0x74, 0x68, 0x65]);
    expect(gpt2StringToBytes('x\u2603')).toBeNull(); // U+2603 is not in the alphabet
  });
});

describe('utf8Bytes', () => {
  it('encodes 1- to 4-byte characters', () => {
    expect(utf8Bytes('A')).toEqual([0x41]);
    expect(utf8Bytes('é')).toEqual([0xc3, 0xa9]); // U+00E9 = 000 1110 1001 → 110 00011, 10 101001
    expect(utf8Bytes('€')).toEqual([0xe2, 0x82, 0xac]); // U+20AC
    expect(utf8Bytes('😀')).toEqual([0xf0, 0x9f, 0x98, 0x80]); // U+1F600
  });

  it('turns lone surrogates into U+FFFD like TextEncoder', () => {
    expect(utf8Bytes('\ud800')).toEqual([0xef, 0xbf, 0xbd]);
    expect(utf8Bytes('a\udc00b')).toEqual([0x61, 0xef, 0xbf, 0xbd, 0x62]);
    // A low surrogate before a high one is two lone surrogates, not a pair.
    expect(utf8Bytes('\udc00\ud800')).toEqual([0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd]);
  });

  it('agrees with TextEncoder on random strings, surrogates included', () => {
    const rng = createRng(3);
    const enc = new TextEncoder();
    const ranges = [0x80, 0x800, 0x10000];
    for (let t = 0; t < 300; t++) {
      let s = '';
      const len = rng.nextInt(12);
      for (let i = 0; i < len; i++) s += String.fromCharCode(rng.nextInt(ranges[rng.nextInt(3)]));
      expect(utf8Bytes(s)).toEqual(Array.from(enc.encode(s)));
    }
  });
});

describe('utf8Decode', () => {
  it('keeps a leading byte-order mark and replaces invalid bytes', () => {
    expect(utf8Decode(Uint8Array.from([0xef, 0xbb, 0xbf, 0x41]))).toBe('\ufeffA');
    expect(utf8Decode(Uint8Array.from([0x41, 0xe2, 0x82]))).toBe('A\ufffd'); // truncated '€'
  });
});
