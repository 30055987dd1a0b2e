import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  applyRepetitionPenalty,
  applyTemperature,
  softmaxOf,
  topKFilter,
  topPFilter,
} from '../src/sample/processors.js';
import { argmax, sampleCategorical, sampleNext } from '../src/sample/sampler.js';
import { createRng } from '../src/util/rng.js';

/** Indices of the logits a filter left finite. */
const kept = (z: ArrayLike<number>): number[] => Array.from(z, (x, i) => (x > -Infinity ? i : -1)).filter((i) => i >= 0);

/** Logits whose softmax is the given distribution, rounded to float32 like a model's output. */
const logitsOf = (probs: number[]): Float32Array => Float32Array.from(probs, Math.log);

function frequencies(n: number, v: number, draw: () => number): number[] {
  const counts = new Array<number>(v).fill(0);
  for (let i = 0; i < n; i++) counts[draw()]++;
  return counts.map((c) => c / n);
}

describe('logits processors', () => {
  it('applyTemperature divides every logit by T', () => {
    // [2, -1, 0.5] / 0.5 = [4, -2, 1]
    expect(Array.from(applyTemperature([2, -1, 0.5], 0.5))).toEqual([4, -2, 1]);
    expect(() => applyTemperature([1], 0)).toThrow(/greedy/);
  });

  it('topKFilter keeps exactly k tokens, lowest ids first among ties, and clamps k', () => {
    expect(kept(topKFilter([1, 3, 2, 3], 2))).toEqual([1, 3]);
    expect(kept(topKFilter([1, 3, 2, 3], 3))).toEqual([1, 2, 3]);
    // three-way tie at the top with k = 2: ids 0 and 2 win over 3
    expect(kept(topKFilter([5, 1, 5, 5], 2))).toEqual([0, 2]);
    // the surviving logits are untouched
    expect(Array.from(topKFilter([1, 3, 2, 3], 2))).toEqual([-Infinity, 3, -Infinity, 3]);
    expect(kept(topKFilter([0.1, 0.2, 0.3], 100))).toEqual([0, 1, 2]);
  });

  it('topPFilter keeps the smallest most-likely set whose mass reaches p', () => {
    const z = logitsOf([0.5, 0.25, 0.15, 0.1]);
    // cumulative masses in sorted order: 0.5, 0.75, 0.90, 1.00
    expect(kept(topPFilter(z, 0.4))).toEqual([0]); // 0.5 ≥ 0.4
    expect(kept(topPFilter(z, 0.5))).toEqual([0]); // 0.5 ≥ 0.5
    expect(kept(topPFilter(z, 0.7))).toEqual([0, 1]); // 0.5 < 0.7 ≤ 0.75
    expect(kept(topPFilter(z, 0.75))).toEqual([0, 1]); // 0.75 reaches 0.75 (float32 rounding tolerated)
    expect(kept(topPFilter(z, 0.76))).toEqual([0, 1, 2]); // 0.75 < 0.76 ≤ 0.90
    expect(kept(topPFilter(z, 0.95))).toEqual([0, 1, 2, 3]); // 0.90 < 0.95 ≤ 1
    expect(kept(topPFilter(z, 1))).toEqual([0, 1, 2, 3]);
    // the same distribution with the ids shuffled: [0.1, 0.5, 0.15, 0.25]
    expect(kept(topPFilter(logitsOf([0.1, 0.5, 0.15, 0.25]), 0.76))).toEqual([1, 2, 3]);
  });

  it('topPFilter orders tied probabilities by lower id', () => {
    // probs [0.3, 0.3, 0.4], p = 0.6: id 2 (0.4), then id 0 before id 1 → mass 0.7 ≥ 0.6
    expect(kept(topPFilter(logitsOf([0.3, 0.3, 0.4]), 0.6))).toEqual([0, 2]);
    // tokens already at −∞ (after top-k) stay out and take no mass: renormalised [0.5, 0.5] over ids 1, 3
    expect(kept(topPFilter([-Infinity, 0, -Infinity, 0], 0.5))).toEqual([1]);
  });

  it('applyRepetitionPenalty divides positive and multiplies negative logits of seen ids', () => {
    // seen {0, 1}; penalty 2: 2 / 2 = 1, -1 · 2 = -2; ids 2 and 3 unseen
    expect(Array.from(applyRepetitionPenalty([2, -1, 0.5, 3], [0, 1, 1], 2))).toEqual([1, -2, 0.5, 3]);
    // penalty 0.5 favours repeats: 2 / 0.5 = 4, -1 · 0.5 = -0.5
    expect(Array.from(applyRepetitionPenalty([2, -1, 0.5, 3], [1, 0], 0.5))).toEqual([4, -0.5, 0.5, 3]);
    expect(Array.from(applyRepetitionPenalty([2, -1], [0, 1], 1))).toEqual([2, -1]);
    const input = [2, -1];
    applyRepetitionPenalty(input, [0], 2);
    expect(input).toEqual([2, -1]); // pure: the input is not modified
    expect(() => applyRepetitionPenalty([2, -1], [2], 2)).toThrow(/outside the vocabulary \[0, 2\)/);
  });

  it('softmaxOf is exact on a hand example and gives −∞ zero mass', () => {
    // exp(0) = 1, exp(ln 3) = 3 → [1/4, 3/4]
    const p = softmaxOf([0, Math.log(3), -Infinity]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(p[2]).toBe(0);
    expect(() => softmaxOf([-Infinity, -Infinity])).toThrow(/−∞/);
  });
});

describe('sampler', () => {
  it('argmax breaks ties toward the lowest id', () => {
    expect(argmax([1, 4, 4, 2])).toBe(1);
  });

  it('sampleCategorical inverts the CDF', () => {
    // probs [0.5, 0.25, 0.25]: CDF 0.5, 0.75, 1.0
    const z = logitsOf([0.5, 0.25, 0.25]);
    expect([0, 0.49, 0.51, 0.74, 0.76, 0.999].map((u) => sampleCategorical(z, u))).toEqual([0, 0, 1, 1, 2, 2]);
    // the −∞ token is skipped: probs [0.5, 0, 0.5]
    expect(sampleCategorical([0, -Infinity, 0], 0.6)).toBe(2);
  });

  it('temperature 0 is greedy, for arrays and 1-D tensors, and creates no tensors', () => {
    const t = tf.tensor1d([0.1, 2.5, -1, 2.4]); // (V)
    const before = tf.memory().numTensors;
    expect(sampleNext(t, { temperature: 0 })).toBe(1);
    expect(sampleNext([3, 1, 2], { temperature: 0, topK: 2, topP: 0.1 })).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });

  it('topK 1 equals greedy on many random logit vectors', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 300; trial++) {
      const z = Array.from({ length: 12 }, () => 3 * rng.normal());
      expect(sampleNext(z, { topK: 1, rng })).toBe(argmax(z));
      expect(sampleNext(z, { temperature: 5, topK: 1, topP: 0.99, rng })).toBe(argmax(z));
    }
  });

  it('draws exactly one uniform per sampled token', () => {
    const a = createRng(5);
    const b = createRng(5);
    sampleNext([0, 1, 2], { rng: a, topK: 2, topP: 0.9 });
    b.next();
    expect(a.next()).toBe(b.next());
  });

  it('empirical frequencies match the softmax probabilities', () => {
    const probs = [0.5, 0.25, 0.15, 0.1];
    const rng = createRng(2024);
    // n = 20000: the standard error of a frequency is at most sqrt(0.25 / 20000) ≈ 0.0035; allow ~4σ
    const f = frequencies(20000, 4, () => sampleNext(logitsOf(probs), { rng }));
    f.forEach((x, i) => expect(Math.abs(x - probs[i])).toBeLessThan(0.015));
  });

  it('temperature 2 samples from p^(1/2), renormalised', () => {
    // sqrt of [0.5, 0.25, 0.15, 0.1] = [0.7071, 0.5, 0.3873, 0.3162], sum 1.9106
    // → [0.3701, 0.2617, 0.2027, 0.1655]
    const rng = createRng(3);
    const f = frequencies(20000, 4, () => sampleNext(logitsOf([0.5, 0.25, 0.15, 0.1]), { temperature: 2, rng }));
    [0.3701, 0.2617, 0.2027, 0.1655].forEach((p, i) => expect(Math.abs(f[i] - p)).toBeLessThan(0.015));
  });

  it('topP renormalises over the nucleus', () => {
    // p = 0.76 keeps {0, 1, 2} with mass 0.9 → [0.5556, 0.2778, 0.1667, 0]
    const rng = createRng(4);
    const f = frequencies(20000, 4, () => sampleNext(logitsOf([0.5, 0.25, 0.15, 0.1]), { topP: 0.76, rng }));
    [0.5556, 0.2778, 0.1667].forEach((p, i) => expect(Math.abs(f[i] - p)).toBeLessThan(0.015));
    expect(f[3]).toBe(0);
  });

  it('clamps topK to the vocabulary size', () => {
    const a = createRng(9);
    const b = createRng(9);
    const z = [0.3, -0.2, 1.1, 0.4];
    for (let i = 0; i < 200; i++) expect(sampleNext(z, { topK: 1000, rng: a })).toBe(sampleNext(z, { rng: b }));
  });

  it('rejects every bad option with a message naming it and its range', () => {
    const rng = createRng(1);
    const z = [0, 1];
    for (const temperature of [-0.5, Number.NaN, Infinity]) {
      expect(() => sampleNext(z, { temperature, rng })).toThrow(/temperature must be a finite number >= 0/);
    }
    for (const topK of [0, -3, 1.5, Number.NaN]) {
      expect(() => sampleNext(z, { topK, rng })).toThrow(/topK must be an integer >= 1/);
    }
    for (const topP of [0, -0.2, 1.01, Number.NaN]) {
      expect(() => sampleNext(z, { topP, rng })).toThrow(/topP must be a number in \(0, 1\]/);
    }
    // options are checked even when greedy would not use them
    expect(() => sampleNext(z, { temperature: 0, topK: 0 })).toThrow(/topK/);
    expect(() => sampleNext(z, {})).toThrow(/rng is required when temperature > 0/);
    expect(() => sampleNext([], { temperature: 0 })).toThrow(/empty/);
    expect(() => sampleNext([0, Number.NaN], { temperature: 0 })).toThrow(/Logit 1 is NaN/);
    const t2 = tf.zeros([1, 2]); // (1, V)
    expect(() => sampleNext(t2, { temperature: 0 })).toThrow(/1-D tensor \(V\), got shape \[1, 2\]/);
    t2.dispose();
    expect(() => applyRepetitionPenalty(z, [0], 0)).toThrow(/repetitionPenalty must be a finite number > 0/);
    expect(() => applyRepetitionPenalty(z, [0], -1)).toThrow(/repetitionPenalty/);
  });
});
