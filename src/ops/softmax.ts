import * as tf from '@tensorflow/tfjs-core';
import { wasmScaledSoftmax, wasmScaledSoftmaxGrad, wasmSoftmaxAvailable } from './wasm/softmax.js';

/**
 * Attention's P = softmax(s·S + M) and its backward pass dS = s · P ⊙ (dP − rowsum(dP ⊙ P)),
 * written out for callers with their own custom gradient (attention/fusedAttention.ts): one heap
 * kernel each on wasm, tfjs ops elsewhere. Not differentiable by themselves. `causal` promises
 * that M hides every key past the diagonal (a causal mask or a stricter one, such as a sliding
 * window): then the wasm kernels compute only the keys up to it and write 0 past it.
 */

const onHeap = (x: tf.Tensor, n: number) => x.dtype === 'float32' && wasmSoftmaxAvailable(n);

/** softmax(scores·scale + mask) along the last axis; scores (G, T, S), mask (T, S). */
export function scaledMaskedSoftmax(scores: tf.Tensor3D, mask: tf.Tensor2D, scale: number, causal = false): tf.Tensor3D {
  if (onHeap(scores, scores.shape[2]) && mask.dtype === 'float32') return wasmScaledSoftmax(scores, mask, scale, causal); // (G, T, S)
  return tf.tidy(() => tf.softmax(tf.add(tf.mul(scores, scale), mask))) as tf.Tensor3D; // (G, T, S)
}

/** dL/dscores from dL/dP and P = {@link scaledMaskedSoftmax}(scores, mask, scale, causal). */
export function scaledMaskedSoftmaxGrad(dP: tf.Tensor3D, p: tf.Tensor3D, scale: number, causal = false): tf.Tensor3D {
  if (onHeap(p, p.shape[2]) && dP.dtype === 'float32') return wasmScaledSoftmaxGrad(dP, p, scale, causal); // (G, T, S)
  return tf.tidy(() => {
    const rowDot = tf.sum(tf.mul(dP, p), -1, true); // (G, T, 1)
    return tf.mul(tf.mul(p, tf.sub(dP, rowDot)), scale) as tf.Tensor3D; // (G, T, S)
  });
}
