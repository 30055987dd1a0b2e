/**
 * Learning BPE merges (Sennrich et al. 2016, byte-level as in GPT-2): start from the 256
 * byte tokens and repeatedly fuse the most frequent adjacent pair into a new token.
 *
 * Words (pre-tokenized pieces) are counted once with their multiplicity, and pair counts are
 * kept up to date incrementally: a merge only revisits the words that contain its pair, so a
 * training run costs about (total length of touched words) rather than (corpus × merges).
 */
import { MERGE_BASE } from './bpe-merges.js';

/** Pair keys pack (left, right) as left · 2^21 + right; ids must stay below 2^21. */
const KEY = 2097152;

/** Largest vocabulary the trainer can build (ids must fit in a pair key). */
export const MAX_TRAIN_VOCAB = KEY;

/**
 * Max-heap of (count, pair key) with lazy deletion: a new entry is pushed whenever a pair's
 * count changes, and popped entries whose count is no longer current are skipped.
 * Order: higher count first, then smaller key (smaller left id, then smaller right id).
 */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private before(c1: number, k1: number, c2: number, k2: number): boolean {
    return c1 > c2 || (c1 === c2 && k1 < k2);
  }

  push(count: number, key: number): void {
    const { counts, keys } = this;
    let i = counts.length;
    counts.push(count);
    keys.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(count, key, counts[p], keys[p])) break;
      counts[i] = counts[p];
      keys[i] = keys[p];
      i = p;
    }
    counts[i] = count;
    keys[i] = key;
  }

  /** Removes the top entry and returns [count, key]. */
  pop(): [number, number] {
    const { counts, keys } = this;
    const top: [number, number] = [counts[0], keys[0]];
    const c = counts.pop() as number;
    const k = keys.pop() as number;
    const m = counts.length;
    if (m > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= m) break;
        const r = l + 1;
        const ch = r < m && this.before(counts[r], keys[r], counts[l], keys[l]) ? r : l;
        if (!this.before(counts[ch], keys[ch], c, k)) break;
        counts[i] = counts[ch];
        keys[i] = keys[ch];
        i = ch;
      }
      counts[i] = c;
      keys[i] = k;
    }
    return top;
  }
}

/**
 * Replaces every non-overlapping (a, b), scanning left to right, with z; null if the word
 * has no (a, b) (it may be listed under a pair it no longer contains).
 */
function mergeWord(word: readonly number[], a: number, b: number, z: number): number[] | null {
  let out: number[] | null = null;
  const n = word.length;
  for (let i = 0; i < n; i++) {
    if (i + 1 < n && word[i] === a && word[i + 1] === b) {
      if (out === null) out = word.slice(0, i);
      out.push(z);
      i++;
    } else if (out !== null) {
      out.push(word[i]);
    }
  }
  return out;
}

/** What {@link trainMerges} needs: distinct words as byte ids, and how often each occurs. */
export interface WordCounts {
  /** Each distinct word's bytes (0..255). */
  readonly words: readonly (readonly number[])[];
  /** Occurrences of each word, same order as `words`. */
  readonly counts: readonly number[];
}

/**
 * Learns up to `numMerges` merges; merge r creates token id 256 + r. Stops early when the
 * most frequent pair occurs fewer than `minFrequency` times (or no pair is left).
 *
 * Pair frequency is Σ over words of (occurrences of the adjacent pair in the word) × (word
 * count); overlapping occurrences (the two pairs in "aaa") each count, as in GPT-2's and
 * HF's trainers. Ties go to the smaller left id, then the smaller right id, so training is
 * deterministic and independent of Map iteration order.
 */
export function trainMerges(input: WordCounts, numMerges: number, minFrequency: number): [number, number][] {
  const words = input.words.map((w) => w.slice());
  const freq = input.counts;
  const pairCount = new Map<number, number>();
  // Words that contained the pair when it was created; may hold words that lost it since.
  const pairWords = new Map<number, number[]>();
  const heap = new PairHeap();

  const addWord = (key: number, w: number): void => {
    const list = pairWords.get(key);
    if (list === undefined) pairWords.set(key, [w]);
    else if (list[list.length - 1] !== w) list.push(w);
  };
  for (let w = 0; w < words.length; w++) {
    const word = words[w];
    for (let i = 0; i + 1 < word.length; i++) {
      const key = word[i] * KEY + word[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + freq[w]);
      addWord(key, w);
    }
  }
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges: [number, number][] = [];
  const delta = new Map<number, number>();
  while (merges.length < numMerges && heap.size > 0) {
    const [count, key] = heap.pop();
    if (pairCount.get(key) !== count) continue; // stale entry
    if (count < minFrequency) break;
    const a = Math.floor(key / KEY);
    const b = key - a * KEY;
    const z = MERGE_BASE + merges.length;
    merges.push([a, b]);

    delta.clear();
    for (const w of pairWords.get(key) ?? []) {
      const old = words[w];
      const merged = mergeWord(old, a, b, z);
      if (merged === null) continue;
      const f = freq[w];
      // Net change: remove all the old word's pairs, add all the new word's pairs.
      for (let i = 0; i + 1 < old.length; i++) {
        const k = old[i] * KEY + old[i + 1];
        delta.set(k, (delta.get(k) ?? 0) - f);
      }
      for (let i = 0; i + 1 < merged.length; i++) {
        const l = merged[i];
        const r = merged[i + 1];
        const k = l * KEY + r;
        delta.set(k, (delta.get(k) ?? 0) + f);
        // Only pairs that contain z are new adjacencies; the others already list this word.
        if (l === z || r === z) addWord(k, w);
      }
      words[w] = merged;
    }
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const c = (pairCount.get(k) ?? 0) + d;
      if (c > 0) {
        pairCount.set(k, c);
        heap.push(c, k);
      } else {
        pairCount.delete(k);
        pairWords.delete(k);
      }
    }
    pairCount.delete(key);
    pairWords.delete(key);
  }
  return merges;
}
