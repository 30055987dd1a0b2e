import * as tf from '@tensorflow/tfjs-core';

/**
 * RMSNorm (Zhang & Sennrich 2019): y = γ ⊙ x / √(mean(x²) + ε) over the last axis.
 * Unlike LayerNorm it neither centres x nor adds an offset; Llama and Gemma use it.
 */
export function rmsNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, eps: number): T {
  return tf.tidy(() => {
    const meanSquare = tf.mean(tf.square(x), -1, true); // (..., 1)
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), gamma) as T; // (..., C)
  });
}
