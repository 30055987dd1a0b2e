import * as tf from '@tensorflow/tfjs-core';

/** A large negative number rather than −∞: e^(−1e9 − max) underflows to exactly 0, and no NaN can arise. */
export const MASKED = -1e9;

/**
 * Additive causal mask (T, S) for T queries that are the last T of S positions:
 * query i sits at absolute position S − T + i and may attend to keys j ≤ S − T + i (softmax over j ≤ i).
 * Entries are 0 where allowed and MASKED above the diagonal.
 */
export function causalMask(t: number, s: number = t): tf.Tensor2D {
  const offset = s - t;
  const data = new Float32Array(t * s);
  for (let i = 0; i < t; i++) {
    for (let j = i + offset + 1; j < s; j++) data[i * s + j] = MASKED;
  }
  return tf.tensor2d(data, [t, s]); // (T, S)
}
