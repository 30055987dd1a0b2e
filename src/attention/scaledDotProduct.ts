import * as tf from '@tensorflow/tfjs-core';
import { batchMatMul, batchMatMulT } from '../ops/matmul.js';
import { causalMask } from './causalMask.js';

/** Options of {@link scaledDotProductAttention}. */
export interface SdpaOptions {
  /** Mask keys after each query (softmax over j ≤ i). Default true. */
  readonly causal?: boolean;
  /** A prebuilt additive mask (T, S) to use instead of building one (the module caches it). */
  readonly mask?: tf.Tensor2D;
  /** Dropout rate on the attention weights (only when training). */
  readonly dropout?: number;
  /** Apply dropout. */
  readonly training?: boolean;
  /** Seed of the dropout mask. */
  readonly seed?: number;
}

/** Output and the attention weights α that produced it. */
export interface SdpaResult<T extends tf.Tensor> {
  /** head_i = Σ_j α_ij v_j, shape (..., T, d_v). */
  readonly output: T;
  /** α = softmax(q·kᵀ/√d_k) with rows summing to 1, shape (..., T, S). */
  readonly weights: T;
}

function checkShapes(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): void {
  const r = q.rank;
  if (r < 2 || k.rank !== r || v.rank !== r) {
    throw new Error(
      `scaledDotProductAttention needs q, k, v of equal rank >= 2 ([..., T, d]); got ranks ${q.rank}, ${k.rank}, ${v.rank}.`,
    );
  }
  const lead = (t: tf.Tensor) => t.shape.slice(0, -2).join(',');
  if (lead(q) !== lead(k) || lead(q) !== lead(v)) {
    throw new Error(`scaledDotProductAttention: leading dims differ: q [${q.shape}], k [${k.shape}], v [${v.shape}].`);
  }
  if (q.shape[r - 1] !== k.shape[r - 1]) {
    throw new Error(`scaledDotProductAttention: q and k must share d_k; got q [${q.shape}] and k [${k.shape}].`);
  }
  if (k.shape[r - 2] !== v.shape[r - 2]) {
    throw new Error(`scaledDotProductAttention: k and v must have the same length S; got k [${k.shape}], v [${v.shape}].`);
  }
  if (q.shape[r - 2] > k.shape[r - 2]) {
    throw new Error(`scaledDotProductAttention: more queries (${q.shape[r - 2]}) than keys (${k.shape[r - 2]}).`);
  }
}

/**
 * Scaled dot-product attention: score_ij = q_i·k_j/√d_k, α_i = softmax_j(score_i) (over j ≤ i when
 * causal), head_i = Σ_j α_ij v_j. Works on any leading dims; all products are 3-D batched matMuls.
 */
export function scaledDotProductAttention<T extends tf.Tensor>(q: T, k: T, v: T, options: SdpaOptions = {}): SdpaResult<T> {
  checkShapes(q, k, v);
  const { causal = true, dropout = 0, training = false, seed = 0 } = options;
  return tf.tidy(() => {
    const r = q.rank;
    const [t, dk] = q.shape.slice(r - 2);
    const s = k.shape[r - 2];
    const dv = v.shape[r - 1];
    const lead = q.shape.slice(0, -2);
    const g = lead.reduce((a, b) => a * b, 1);
    const q3 = tf.reshape(q, [g, t, dk]) as tf.Tensor3D; // (G, T, dk)
    const k3 = tf.reshape(k, [g, s, dk]) as tf.Tensor3D; // (G, S, dk)
    const v3 = tf.reshape(v, [g, s, dv]) as tf.Tensor3D; // (G, S, dv)
    let scores: tf.Tensor3D = tf.mul(batchMatMulT(q3, k3, false, true), 1 / Math.sqrt(dk)); // (G, T, S) = q·kᵀ/√dk
    if (causal) scores = tf.add(scores, options.mask ?? causalMask(t, s)); // (G, T, S)
    const alpha = tf.softmax(scores); // (G, T, S)
    const dropped = training && dropout > 0 ? tf.dropout(alpha, dropout, undefined, seed) : alpha; // (G, T, S)
    const out = batchMatMul(dropped as tf.Tensor3D, v3); // (G, T, dv)
    return {
      output: tf.reshape(out, [...lead, t, dv]) as T, // (..., T, dv)
      weights: tf.reshape(alpha, [...lead, t, s]) as T, // (..., T, S)
    };
  });
}
