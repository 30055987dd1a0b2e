import type * as tf from '@tensorflow/tfjs-core';
import { customOp } from '../ops/customOp.js';
import { scaledMaskedSoftmax, scaledMaskedSoftmaxGrad } from '../ops/softmax.js';
import type { SliceSelect } from '../ops/wasm/batchMatMul.js';
import { headProducts } from '../ops/wasm/headProducts.js';

/**
 * Masked multi-head scaled dot-product attention (Vaswani et al. 2017, eq. 1) straight from the
 * fused projection, with its gradient written out.
 *
 * Input: qkv (B, T, 3·nh, hs), the projection's (B·T, 3C) output reshaped: slot j = part·nh + head
 * of row t holds q (part 0), k (1) or v (2) of one head at position t. Output: the heads
 * (B, T, nh, hs), which reshape to (B·T, C) concatenated. Every product reads its q, k, v or dO
 * slices in place and writes its heads where they belong (ops/wasm/headProducts.ts), so there is no
 * split, kᵀ, head transpose or concatenation:
 *   S = s·q·kᵀ + M (s = 1/√hs unless given),  P = softmax_rows(S),  O = P·v                        (forward)
 *   dP = dO·vᵀ,  dS = s · P ⊙ (dP − rowsum(dP ⊙ P))                        (softmax backward)
 *   dq = dS·k,  dk = dSᵀ·q,  dv = Pᵀ·dO                                      (products)
 * and d(qkv) is [dq | dk | dv] along the slot axis, filled by one call. Same values as the generic
 * path (split + scaledDotProductAttention) up to float rounding; no dropout on P. The mask is causal
 * (or stricter: a sliding window), so P and dS are exactly 0 above the diagonal (e^(−1e9) is 0)
 * and only the lower triangles of S and dP are read: each product tells the packed kernel which
 * terms are zeros, and it skips them (about half the work, the same sums).
 */
export function fusedCausalAttention(qkv: tf.Tensor4D, nHead: number, mask: tf.Tensor2D, scale?: number): tf.Tensor4D {
  const [b, t, slotCount, hs] = qkv.shape;
  if (slotCount !== 3 * nHead || mask.shape[0] !== t || mask.shape[1] !== t) {
    throw new Error(
      `fusedCausalAttention: qkv [${qkv.shape}] must be (B, T, 3·nHead = ${3 * nHead}, hs) and the mask (T, T); got mask [${mask.shape}].`,
    );
  }
  const s = scale ?? 1 / Math.sqrt(hs);
  const part = (p: number): SliceSelect => ({ group: 3 * nHead, start: p * nHead });
  const own: SliceSelect = { group: nHead, start: 0 };
  const perHead = { outer: b, group: nHead, heads: nHead, tokenMajor: false }; // (B·nh, T, ·)
  const f = customOp((save, x: tf.Tensor4D) => {
    const scores = headProducts([{ a: x, aSlices: part(0), b: x, bSlices: part(1), transposeB: true, start: 0, triangle: 'lowerOut' }], perHead) as tf.Tensor3D; // (G, T, T) q·kᵀ
    const p = scaledMaskedSoftmax(scores, mask, s, true); // (G, T, T), 0 past the diagonal
    const out = headProducts([{ a: p, aSlices: own, b: x, bSlices: part(2), start: 0, triangle: 'lowerA' }], { ...perHead, tokenMajor: true }); // (B, T, nh, hs) P·v
    save([x, p]);
    return {
      value: out, // (B, T, nh, hs)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sp] = saved as [tf.Tensor4D, tf.Tensor3D];
        const dO = dy as tf.Tensor4D; // (B, T, nh, hs)
        const dP = headProducts([{ a: dO, aSlices: own, b: sx, bSlices: part(2), transposeB: true, start: 0, triangle: 'lowerOut' }], perHead) as tf.Tensor3D; // (G, T, T) dO·vᵀ
        const dS = scaledMaskedSoftmaxGrad(dP, sp, s, true); // (G, T, T) = s · P ⊙ (dP − rowsum(dP ⊙ P))
        return headProducts(
          [
            { a: dS, aSlices: own, b: sx, bSlices: part(1), start: 0, triangle: 'lowerA' }, // dq = dS·k
            { a: dS, aSlices: own, b: sx, bSlices: part(0), transposeA: true, start: nHead, triangle: 'upperA' }, // dk = dSᵀ·q
            { a: sp, aSlices: own, b: dO, bSlices: own, transposeA: true, start: 2 * nHead, triangle: 'upperA' }, // dv = Pᵀ·dO
          ],
          { outer: b, group: 3 * nHead, heads: nHead, tokenMajor: true },
        ); // (B, T, 3·nh, hs)
      },
    };
  });
  return f(qkv) as tf.Tensor4D;
}
