import * as tf from '@tensorflow/tfjs-core';
import { customOp } from '../ops/customOp.js';
import { scaledMaskedSoftmax, scaledMaskedSoftmaxGrad } from '../ops/softmax.js';
import { groupedBatchMatMul, type SliceSelect } from '../ops/wasm/batchMatMul.js';

/**
 * Masked multi-head scaled dot-product attention (Vaswani et al. 2017, eq. 1) straight from the
 * fused projection, with its gradient written out.
 *
 * Input: slots (B, 3·nh, T, hs), slot j = part·nh + head holding q (part 0), k (1) or v (2) of
 * one head; that is qkv (B·T, 3C) reshaped to (B, T, 3·nh, hs) and transposed [0, 2, 1, 3].
 * Every product reads its q, k or v slices in place (no split, no kᵀ), so one tensor feeds them all:
 *   S = s·q·kᵀ + M (s = 1/√hs unless given),  P = softmax_rows(S),  O = P·v                        (forward)
 *   dP = dO·vᵀ,  dS = s · P ⊙ (dP − rowsum(dP ⊙ P))                        (softmax backward)
 *   dq = dS·k,  dk = dSᵀ·q,  dv = Pᵀ·dO                                      (products)
 * and d(slots) is [dq | dk | dv] along the slot axis. Same values as the generic path
 * (split + scaledDotProductAttention) up to float rounding; no dropout on P. The mask is causal
 * (or stricter: a sliding window), so P and dS are exactly 0 above the diagonal (e^(−1e9) is 0)
 * and only the lower triangles of S and dP are read: each product tells the packed kernel which
 * terms are zeros, and it skips them (about half the work, the same sums).
 */
export function fusedCausalAttention(slots: tf.Tensor4D, nHead: number, mask: tf.Tensor2D, scale?: number): tf.Tensor4D {
  const [b, slotCount, t, hs] = slots.shape;
  if (slotCount !== 3 * nHead || mask.shape[0] !== t || mask.shape[1] !== t) {
    throw new Error(
      `fusedCausalAttention: slots [${slots.shape}] must be (B, 3·nHead = ${3 * nHead}, T, hs) and the mask (T, T); got mask [${mask.shape}].`,
    );
  }
  const g = b * nHead;
  const s = scale ?? 1 / Math.sqrt(hs);
  const part = (p: number): SliceSelect => ({ group: 3 * nHead, start: p * nHead });
  const f = customOp((save, x: tf.Tensor4D) => {
    const s3 = tf.reshape(x, [b * 3 * nHead, t, hs]) as tf.Tensor3D; // (B·3nh, T, hs)
    const scores = groupedBatchMatMul(s3, s3, { heads: nHead, a: part(0), b: part(1), transposeB: true, triangle: 'lowerOut' }); // (G, T, T) q·kᵀ
    const p = scaledMaskedSoftmax(scores, mask, s, true); // (G, T, T), 0 past the diagonal
    const out = groupedBatchMatMul(p, s3, { heads: nHead, a: { group: nHead, start: 0 }, b: part(2), triangle: 'lowerA' }); // (G, T, hs) P·v
    save([s3, p]);
    return {
      value: tf.reshape(out, [b, nHead, t, hs]), // (B, nh, T, hs)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ss, sp] = saved as [tf.Tensor3D, tf.Tensor3D];
        const dO = tf.reshape(dy, [g, t, hs]) as tf.Tensor3D; // (G, T, hs)
        const own = { group: nHead, start: 0 };
        const dP = groupedBatchMatMul(dO, ss, { heads: nHead, a: own, b: part(2), transposeB: true, triangle: 'lowerOut' }); // (G, T, T) dO·vᵀ
        const dS = scaledMaskedSoftmaxGrad(dP, sp, s, true); // (G, T, T) = s · P ⊙ (dP − rowsum(dP ⊙ P))
        const dq = groupedBatchMatMul(dS, ss, { heads: nHead, a: own, b: part(1), triangle: 'lowerA' }); // (G, T, hs) dS·k
        const dk = groupedBatchMatMul(dS, ss, { heads: nHead, a: own, b: part(0), transposeA: true, triangle: 'upperA' }); // (G, T, hs) dSᵀ·q
        const dv = groupedBatchMatMul(sp, dO, { transposeA: true, triangle: 'upperA' }); // (G, T, hs) Pᵀ·dO
        const four = (z: tf.Tensor3D) => tf.reshape(z, [b, nHead, t, hs]); // (B, nh, T, hs)
        return tf.concat([four(dq), four(dk), four(dv)], 1); // (B, 3·nh, T, hs)
      },
    };
  });
  return f(slots) as tf.Tensor4D;
}
