import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { GPT } from '../src/model/gpt.js';
import type { LanguageModel } from '../src/model/types.js';
import { referenceLoss } from './reference/gpt.js';
import { createRng, type Rng } from '../src/util/rng.js';

/** Element-wise |actual − expected| < tol, with the index in the failure message. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff < tol)) {
      throw new Error(`index ${i}: got ${actual[i]}, expected ${expected[i]} (|diff| ${diff} >= ${tol})`);
    }
  }
}

/** Reads a tensor's values as a plain array (test-only, synchronous). */
export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Reads then disposes: for tensors a test creates only to inspect. */
export function take(t: tf.Tensor): number[] {
  const v = values(t);
  t.dispose();
  return v;
}

/** Largest |a_i − b_i|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** n token ids below vocab from a seeded stream. */
export function randomTokens(seed: number, n: number, vocab: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => rng.nextInt(vocab));
}

/** Largest |a_i − b_i| divided by the largest |b_i| (0 when both are zero). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** A float32 array of N(mean, std²) draws from the seeded Rng. */
export function normals(rng: Rng, n: number, std = 1, mean = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
  return out;
}

/** Assigns values to a variable without leaving the temporary tensor behind. */
export function setVar(v: tf.Variable, data: ArrayLike<number>): void {
  tf.tidy(() => v.assign(tf.tensor(Array.from(data), v.shape, 'float32')));
}

/** True for a LayerNorm gain name ("h.0.ln_1.weight", "ln_f.weight", or a bare LayerNorm's "weight"). */
export function isGain(name: string): boolean {
  return name === 'weight' || /(^|\.)ln_[12f]\.weight$/.test(name);
}

/**
 * Overwrites every named weight with seeded noise so tests do not run at the trivial init
 * (zero biases, unit gains): LayerNorm gains become 1 + N(0, std²), everything else N(0, std²).
 */
export function randomizeWeights(named: Iterable<readonly [string, tf.Variable]>, rng: Rng, std: number): void {
  for (const [name, v] of named) setVar(v, normals(rng, v.size, std, isGain(name) ? 1 : 0));
}

/** int32 ids (B, T) drawn uniformly from [0, vocab). */
export function randomIds(rng: Rng, b: number, t: number, vocab: number): tf.Tensor2D {
  const data = new Int32Array(b * t);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextInt(vocab);
  return tf.tensor2d(data, [b, t], 'int32');
}

/** Loss and the gradient of every named weight of a model, read out and disposed. */
export function lossAndGrads(
  model: Pick<LanguageModel, 'namedWeights' | 'loss'>,
  ids: tf.Tensor2D,
  targets: tf.Tensor2D,
): { loss: number; grads: Map<string, number[]> } {
  const named = [...model.namedWeights()];
  const { value, grads } = tf.variableGrads(() => model.loss(ids, targets), named.map(([, v]) => v));
  const out = new Map(named.map(([n, v]) => [n, take(grads[v.name])] as const));
  return { loss: take(value)[0], grads: out };
}

/** {@link lossAndGrads} of the plain autograd reference forward (test/reference/gpt.ts) of the same model and weights. */
export function referenceLossAndGrads(
  model: GPT,
  ids: tf.Tensor2D,
  targets: tf.Tensor2D,
): { loss: number; grads: Map<string, number[]> } {
  return lossAndGrads({ namedWeights: () => model.namedWeights(), loss: (x, y) => referenceLoss(model, x, y) }, ids, targets);
}
