import * as tf from '@tensorflow/tfjs-core';
import { wasmScaledSoftmaxGrad, wasmSoftmaxGradAvailable } from './wasm/softmax.js';

/**
 * Attention's P = softmax(s·S + M) and its backward pass dS = s · P ⊙ (dP − rowsum(dP ⊙ P)),
 * written out for callers with their own custom gradient (attention/fusedAttention.ts): the
 * backward is one heap kernel on wasm, tfjs ops elsewhere. Not differentiable by themselves.
 */

/** softmax(scores·scale + mask) along the last axis; scores (G, T, S), mask (T, S). */
export function scaledMaskedSoftmax(scores: tf.Tensor3D, mask: tf.Tensor2D, scale: number): tf.Tensor3D {
  return tf.tidy(() => tf.softmax(tf.add(tf.mul(scores, scale), mask))) as tf.Tensor3D; // (G, T, S)
}

/** dL/dscores from dL/dP and P = {@link scaledMaskedSoftmax}(scores, mask, scale). */
export function scaledMaskedSoftmaxGrad(dP: tf.Tensor3D, p: tf.Tensor3D, scale: number): tf.Tensor3D {
  if (dP.dtype === 'float32' && p.dtype === 'float32' && wasmSoftmaxGradAvailable()) return wasmScaledSoftmaxGrad(dP, p, scale); // (G, T, S)
  return tf.tidy(() => {
    const rowDot = tf.sum(tf.mul(dP, p), -1, true); // (G, T, 1)
    return tf.mul(tf.mul(p, tf.sub(dP, rowDot)), scale) as tf.Tensor3D; // (G, T, S)
  });
}
