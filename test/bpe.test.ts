import { describe, expect, it } from 'vitest';
import { BPETokenizer } from '../src/tokenizer/bpe.js';
import { pretokenize } from '../src/tokenizer/bpe-pretokenize.js';
import { createRng } from '../src/util/rng.js';

const TRAIN_TEXT = [
  "First Citizen: Before we proceed any further, hear me speak. We're all resolved; don't you know?",
  'Numbers 1234 and 56.78, emoji 🙂🙂 and 日本語の文章, café crème, tabs\t\tand  spaces   here.',
].join('\n\n').repeat(20);

const tok = BPETokenizer.train(TRAIN_TEXT, 300, { specialTokens: ['<|endoftext|>', '<|pad|>'] });

const SAMPLES = [
  '',
  'hello',
  "It's what we'll do, isn't it? They'd've said so!",
  '  leading spaces, trailing spaces   ',
  'line one\nline two\r\n\n\n\tindented\n',
  '\u00a0non-breaking\u3000ideographic space\u2028line separator',
  '🤖 robots 👩‍👩‍👧 family 🇯🇵 flag',
  '汉字 かな カナ 한국어 العربية עברית',
  'e\u0301 (e + combining acute) vs é; a\u0308\u0304 stacked marks',
  '\ufeffstarts with a byte-order mark',
  '3.14159 1e-9 -42 ١٢٣ (Arabic-Indic digits)',
  'unseen characters: ∮ ∇ ⊗ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
];

describe('BPETokenizer round trip', () => {
  it('decodes every sample back to itself, with and without special-token handling', () => {
    for (const s of SAMPLES) {
      expect(tok.decode(tok.encode(s))).toBe(s);
      expect(tok.decode(tok.encodeOrdinary(s))).toBe(s);
    }
  });

  it('round-trips random well-formed strings from a mixed alphabet', () => {
    const alphabet = [...'ab Z9\n\t\r.,\'’é日🙂\u0301\u00a0<|>'];
    const rng = createRng(1);
    for (let t = 0; t < 300; t++) {
      let s = '';
      for (let i = rng.nextInt(40); i > 0; i--) s += alphabet[rng.nextInt(alphabet.length)];
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it('makes every training word seen twice or more a single token when trained to exhaustion', () => {
    // Training stops only when no pair occurs twice, so no word occurring ≥ 2 times keeps two tokens.
    const full = BPETokenizer.train(TRAIN_TEXT, 5000);
    expect(full.vocabSize).toBeLessThan(5000);
    // Pieces ' we', ' proceed', ' any', ' further' each occur 20 times.
    expect(full.encode(' we proceed any further')).toHaveLength(4);
    expect(full.encode(' 日本語の文章')).toHaveLength(1);
  });

  it('pre-tokenizes like GPT-2: contractions, spaced words, whitespace runs', () => {
    expect(pretokenize("I'm  here, 42x!\n\n")).toEqual(['I', "'m", ' ', ' here', ',', ' 42', 'x', '!', '\n\n']);
    // A whitespace run gives its last space to the next word.
    expect(pretokenize('a   b')).toEqual(['a', '  ', ' b']);
  });
});

describe('lone surrogates', () => {
  it('encode as U+FFFD (like TextEncoder), so decode gives U+FFFD instead of the surrogate', () => {
    expect(tok.encode('a\ud800b')).toEqual(tok.encode('a\ufffdb'));
    expect(tok.decode(tok.encode('a\ud800b'))).toBe('a\ufffdb');
    expect(tok.decode(tok.encode('\udc00'))).toBe('\ufffd');
    // A proper surrogate pair is one character and survives.
    expect(tok.decode(tok.encode('\ud83d\ude00'))).toBe('😀');
  });
});

describe('special tokens', () => {
  const eot = tok.specialTokens.get('<|endoftext|>') as number;
  const pad = tok.specialTokens.get('<|pad|>') as number;

  it('get the ids after the merges and are matched before BPE', () => {
    expect([eot, pad]).toEqual([tok.vocabSize - 2, tok.vocabSize - 1]);
    const ids = tok.encode('hear me<|endoftext|><|pad|>speak');
    expect(ids.slice(tok.encode('hear me').length, -tok.encode('speak').length)).toEqual([eot, pad]);
    expect(tok.decode([eot])).toBe('<|endoftext|>');
  });

  it('are ordinary text for encodeOrdinary', () => {
    const ids = tok.encodeOrdinary('<|endoftext|>');
    expect(ids).not.toContain(eot);
    expect(ids.length).toBeGreaterThan(1);
    expect(tok.decode(ids)).toBe('<|endoftext|>');
  });

  it('prefer the longer token when one special token is a prefix of another', () => {
    const t = BPETokenizer.train('xy', 259, { specialTokens: ['<a>', '<a><b>'], minFrequency: 1 });
    // ids: 256 bytes + 1 merge (x,y) = 256, then '<a>' = 257, '<a><b>' = 258.
    expect(t.encode('<a><b><a>')).toEqual([258, 257]);
  });
});

describe('decode', () => {
  it('maps a character split across tokens to U+FFFD, while decodeBytes keeps the raw bytes', () => {
    const bytes = tok.decodeBytes(tok.encode('€')); // U+20AC = E2 82 AC
    expect(Array.from(bytes)).toEqual([0xe2, 0x82, 0xac]);
    const byteTokenE2 = 0xe2; // a trained tokenizer keeps byte b as id b
    expect(tok.decode([byteTokenE2])).toBe('\ufffd');
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([tok.vocabSize])).toThrow(/ids\[0\] = 300 is not a token id; ids must be integers in 0\.\.299/);
    expect(() => tok.decode([1, -1])).toThrow(/ids\[1\] = -1/);
    expect(() => tok.decode([1.5])).toThrow(/not a token id/);
  });

  it('accepts typed arrays', () => {
    expect(tok.decode(Int32Array.from(tok.encode('hear me')))).toBe('hear me');
  });
});

describe('cache', () => {
  it('gives the same ids on repeated and cache-cleared encodes', () => {
    const s = SAMPLES.join(' ');
    const first = tok.encode(s);
    expect(tok.encode(s)).toEqual(first);
    tok.clearCache();
    expect(tok.encode(s)).toEqual(first);
  });
});

describe('toJSON / fromJSON', () => {
  it('saves plain JSON that loads into an identical tokenizer', () => {
    const json = tok.toJSON();
    expect(json.type).toBe('tinygpt-bpe');
    expect(json.byteIds).toBeUndefined(); // identity byte order is left out
    expect(json.merges).toHaveLength(300 - 256 - 2);
    expect(json.specialTokens).toEqual({ '<|endoftext|>': 298, '<|pad|>': 299 });
    const text = JSON.stringify(tok);
    for (const loaded of [BPETokenizer.fromJSON(JSON.parse(text)), BPETokenizer.fromJSON(text)]) {
      expect(loaded.vocabSize).toBe(300);
      for (const s of SAMPLES) expect(loaded.encode(s)).toEqual(tok.encode(s));
      expect(JSON.stringify(loaded)).toBe(text);
    }
  });

  it('rejects malformed files with a message naming the problem', () => {
    const good = tok.toJSON();
    const bad = (patch: Record<string, unknown>): unknown => ({ ...good, ...patch });
    expect(() => BPETokenizer.fromJSON('{oops')).toThrow(/not valid JSON/);
    expect(() => BPETokenizer.fromJSON([])).toThrow(/expected an object.*got an array/);
    expect(() => BPETokenizer.fromJSON(bad({ type: 'other' }))).toThrow(/"type" must be "tinygpt-bpe"/);
    expect(() => BPETokenizer.fromJSON(bad({ version: 2 }))).toThrow(/unsupported version 2/);
    expect(() => BPETokenizer.fromJSON(bad({ pattern: 'cl100k' }))).toThrow(/only "gpt2"/);
    expect(() => BPETokenizer.fromJSON(bad({ merges: [[1, 2], [300, 1]] }))).toThrow(/merge 1 \[300,1\] uses an id ≥ 257/);
    expect(() => BPETokenizer.fromJSON(bad({ merges: [[1, 2], [1, 2]] }))).toThrow(/merge 1 \[1,2\] repeats merge 0/);
    expect(() => BPETokenizer.fromJSON(bad({ merges: [[1]] }))).toThrow(/merge 0 must be a pair/);
    expect(() => BPETokenizer.fromJSON(bad({ byteIds: [1, 2, 3] }))).toThrow(/array of 256 ids/);
    expect(() => BPETokenizer.fromJSON(bad({ byteIds: new Array(256).fill(0) }))).toThrow(/permutation of 0\.\.255/);
    expect(() => BPETokenizer.fromJSON(bad({ specialTokens: { '<|endoftext|>': 5, '<|pad|>': 299 } }))).toThrow(
      /special ids must be exactly 298\.\.299/,
    );
    expect(() => BPETokenizer.fromJSON(bad({ specialTokens: null }))).toThrow(/"specialTokens" must be an object/);
  });
});
