import { describe, expect, it } from 'vitest';
import { BPETokenizer } from '../src/tokenizer/bpe.js';
import { trainMerges, type WordCounts } from '../src/tokenizer/bpe-train.js';
import { createRng } from '../src/util/rng.js';

/** Reference trainer: recounts every pair from scratch before each merge (slow but obviously right). */
function naiveMerges(input: WordCounts, numMerges: number, minFrequency: number): [number, number][] {
  let words = input.words.map((w) => w.slice());
  const merges: [number, number][] = [];
  while (merges.length < numMerges) {
    const counts = new Map<string, number>();
    words.forEach((w, i) => {
      for (let j = 0; j + 1 < w.length; j++) counts.set(`${w[j]},${w[j + 1]}`, (counts.get(`${w[j]},${w[j + 1]}`) ?? 0) + input.counts[i]);
    });
    let best: [number, number] | null = null;
    let bestCount = 0;
    for (const [k, c] of counts) {
      const [a, b] = k.split(',').map(Number);
      if (c > bestCount || (c === bestCount && best !== null && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (best === null || bestCount < minFrequency) break;
    const [a, b] = best;
    const z = 256 + merges.length;
    merges.push(best);
    words = words.map((w) => {
      const out: number[] = [];
      for (let j = 0; j < w.length; j++) {
        if (j + 1 < w.length && w[j] === a && w[j + 1] === b) {
          out.push(z);
          j++;
        } else out.push(w[j]);
      }
      return out;
    });
  }
  return merges;
}

describe('trainMerges', () => {
  it('learns the hand-computed merges for "aaab aaab ab"', () => {
    // Pieces "aaab", " aaab", " ab". Pair counts: (a,a) 2+2 = 4, (a,b) 3, (' ',a) 2 → merge (97,97) = 256.
    // Words [256 a b], [' ' 256 a b], [' ' a b]: (a,b) 3 beats (256,a) 2 → (97,98) = 257.
    // Words [256 257], [' ' 256 257], [' ' 257]: (256,257) 2 → 258. Then only count-1 pairs remain.
    const tok = BPETokenizer.train('aaab aaab ab', 300);
    expect(tok.toJSON().merges).toEqual([[97, 97], [97, 98], [256, 257]]);
    expect(tok.vocabSize).toBe(259);
    expect(tok.encode('aaab aaab ab')).toEqual([258, 32, 258, 32, 257]);
    // With minFrequency 1 the two count-1 pairs (32,258) and (32,257) tie; the smaller right id goes first.
    const all = BPETokenizer.train('aaab aaab ab', 300, { minFrequency: 1 });
    expect(all.toJSON().merges.slice(3)).toEqual([[32, 257], [32, 258]]);
    expect(all.encode('aaab aaab ab')).toEqual([258, 260, 259]);
  });

  it('breaks ties by the smaller left id, then the smaller right id', () => {
    // "ab ab cd cd": (' ',c), (a,b), (c,d) all occur twice; (32,99) has the smallest left id → 256.
    // " cd" is now [256 d]: (a,b) and (256,d) tie at 2 → (97,98) = 257, then (256,100) = 258.
    const tok = BPETokenizer.train('ab ab cd cd', 1000);
    expect(tok.toJSON().merges).toEqual([[32, 99], [97, 98], [256, 100]]);
  });

  it('matches a from-scratch recount on random words, and stops at the requested size', () => {
    const rng = createRng(5);
    const words: number[][] = [];
    const counts: number[] = [];
    for (let i = 0; i < 150; i++) {
      words.push(Array.from({ length: 1 + rng.nextInt(9) }, () => 97 + rng.nextInt(5)));
      counts.push(1 + rng.nextInt(20));
    }
    const input = { words, counts };
    const fast = trainMerges(input, 120, 1);
    expect(fast).toEqual(naiveMerges(input, 120, 1));
    expect(trainMerges(input, 10, 1)).toEqual(fast.slice(0, 10));
    expect(trainMerges(input, 1000, 30)).toEqual(naiveMerges(input, 1000, 30));
  });

  it('keeps special tokens out of training and gives them the ids after the merges', () => {
    const text = 'one two<|endoftext|>one two<|endoftext|>three';
    // 262 = 256 bytes + 5 merges + 1 special token, so the special token is id 261.
    const tok = BPETokenizer.train(text, 262, { specialTokens: ['<|endoftext|>'], minFrequency: 1 });
    expect(tok.vocabSize).toBe(262);
    expect(tok.specialTokens.get('<|endoftext|>')).toBe(261);
    // No merge ever reaches into the special token's characters '<', '|'.
    for (const [a, b] of tok.toJSON().merges) expect([a, b]).not.toContain(60); // '<'
    const ids = tok.encode(text);
    expect(ids.filter((i) => i === 261)).toHaveLength(2);
    expect(tok.decode(ids)).toBe(text);
  });

  it('is deterministic and compresses text it was trained on', () => {
    const rng = createRng(9);
    const vocab = ['the', 'king', 'queen', 'and', 'of', 'thou', 'art', 'my', 'lord', 'sweet'];
    const text = Array.from({ length: 3000 }, () => vocab[rng.nextInt(vocab.length)]).join(' ');
    const a = BPETokenizer.train(text, 300);
    const b = BPETokenizer.train(text, 300);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    // The 10 space-prefixed words need at most 3+4+5+3+2+4+3+2+4+5 = 35 merges (one per letter), so
    // the 44 merges leave room for every word, and the 3000 words encode as 3000 tokens.
    expect(a.encode(text).length).toBe(3000);
    expect(a.decode(a.encode(text))).toBe(text);
  });

  it('rejects a bad vocabSize or minFrequency with a clear message', () => {
    expect(() => BPETokenizer.train('abc', 255)).toThrow(/vocabSize must be an integer in 256\.\./);
    expect(() => BPETokenizer.train('abc', 256, { specialTokens: ['<s>'] })).toThrow(/in 257\.\./);
    expect(() => BPETokenizer.train('abc', 300.5)).toThrow(/vocabSize/);
    expect(() => BPETokenizer.train('abc', 300, { minFrequency: 0 })).toThrow(/minFrequency/);
    expect(() => BPETokenizer.train('abc', 300, { specialTokens: ['<s>', '<s>'] })).toThrow(/listed twice/);
  });
});
