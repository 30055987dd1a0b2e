import * as tf from '@tensorflow/tfjs-core';
import { MASKED } from './causalMask.js';

/**
 * Additive mask (T, S) for T queries that are the last T of S positions, causal and, with a
 * window w > 0, local (Beltagy et al. 2020; Gemma 3's local layers): query i, at absolute
 * position p = S − T + i, sees keys j with p − w < j ≤ p, so w keys including itself.
 * w = 0 means no window (the plain causal mask). Entries are 0 where allowed, MASKED elsewhere.
 */
export function slidingWindowMask(t: number, s: number = t, window = 0): tf.Tensor2D {
  if (!Number.isInteger(window) || window < 0) {
    throw new Error(`slidingWindowMask: window must be an integer >= 0 (0 = no window), got ${window}.`);
  }
  if (t > s) throw new Error(`slidingWindowMask: ${t} queries cannot be the last of ${s} positions; pass s >= t.`);
  const offset = s - t;
  const data = new Float32Array(t * s).fill(MASKED);
  for (let i = 0; i < t; i++) {
    const p = offset + i;
    const first = window > 0 ? Math.max(0, p - window + 1) : 0;
    data.fill(0, i * s + first, i * s + p + 1);
  }
  return tf.tensor2d(data, [t, s]); // (T, S)
}
