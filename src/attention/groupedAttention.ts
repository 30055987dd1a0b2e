import * as tf from '@tensorflow/tfjs-core';
import { batchMatMul, batchMatMulT } from '../ops/matmul.js';

/** Options of {@link groupedAttention}. */
export interface GroupedAttentionOptions {
  /** Dropout rate on the attention weights (only when training). */
  readonly dropout?: number;
  /** Apply dropout. */
  readonly training?: boolean;
  /** Seed of the dropout mask. */
  readonly seed?: number;
  /** Multiplier of q·kᵀ (default 1/√hd). */
  readonly scale?: number;
}

/** Output heads and the attention weights that produced them. */
export interface GroupedAttentionResult {
  /** head_i = Σ_j α_ij v_j per query head, (B, nh, T, hd). */
  readonly output: tf.Tensor4D;
  /** α = softmax(q·kᵀ/√hd + M) per query head, (B, nh, T, S). */
  readonly weights: tf.Tensor4D;
}

/**
 * Grouped-query attention (Ainslie et al. 2023): nh query heads share nKv key/value heads, query
 * head h reading key/value head ⌊h / g⌋ with g = nh / nKv (nKv = nh is multi-head attention,
 * nKv = 1 multi-query attention). The g query heads of a group are stacked along the time axis,
 * (B, nh, T, hd) = (B, nKv, g·T, hd) with no copy, so each group is one attention of g·T queries
 * over its S keys and k, v are never repeated:
 *   α = softmax(s·q·kᵀ + M),  head = α·v,  s = 1/√hd by default                       (Vaswani et al. 2017, eq. 1)
 * with M (T, S) the additive mask, shared by every head and group.
 */
export function groupedAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor2D,
  options: GroupedAttentionOptions = {},
): GroupedAttentionResult {
  const [b, nh, t, hd] = q.shape;
  const [kb, nkv, s, khd] = k.shape;
  if (kb !== b || khd !== hd || v.shape.join(',') !== k.shape.join(',') || nh % nkv !== 0) {
    throw new Error(
      `groupedAttention: q (B, nh, T, hd) = [${q.shape}] needs k and v of shape (B, nKv, S, hd) with nKv dividing nh; got k [${k.shape}], v [${v.shape}].`,
    );
  }
  if (mask.shape[0] !== t || mask.shape[1] !== s) {
    throw new Error(`groupedAttention: the mask must be (T, S) = (${t}, ${s}); got [${mask.shape}].`);
  }
  const { dropout = 0, training = false, seed = 0, scale = 1 / Math.sqrt(hd) } = options;
  const g = nh / nkv;
  return tf.tidy(() => {
    const q3 = tf.reshape(q, [b * nkv, g * t, hd]) as tf.Tensor3D; // (B·nKv, g·T, hd)
    const k3 = tf.reshape(k, [b * nkv, s, hd]) as tf.Tensor3D; // (B·nKv, S, hd)
    const v3 = tf.reshape(v, [b * nkv, s, hd]) as tf.Tensor3D; // (B·nKv, S, hd)
    const scores = tf.mul(batchMatMulT(q3, k3, false, true), scale); // (B·nKv, g·T, S)
    const alpha = tf.softmax(tf.add(tf.reshape(scores, [b * nkv, g, t, s]), mask)); // (B·nKv, g, T, S)
    const dropped = training && dropout > 0 ? tf.dropout(alpha, dropout, undefined, seed) : alpha; // (B·nKv, g, T, S)
    const out = batchMatMul(tf.reshape(dropped, [b * nkv, g * t, s]) as tf.Tensor3D, v3); // (B·nKv, g·T, hd)
    return {
      output: tf.reshape(out, [b, nh, t, hd]) as tf.Tensor4D, // (B, nh, T, hd)
      weights: tf.reshape(alpha, [b, nh, t, s]) as tf.Tensor4D, // (B, nh, T, S)
    };
  });
}
