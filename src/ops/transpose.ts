import * as tf from '@tensorflow/tfjs-core';
import { wasmSwapAxes } from './wasm/transpose.js';

/**
 * The transposes of a training step: a matrix, a batch of matrices, and attention's head shuffle.
 * On wasm they run as one heap kernel (src/ops/wasm/transpose.ts); elsewhere as tf.transpose.
 * All are differentiable (the gradient is the inverse permutation).
 */

/** (R, C) → (C, R). */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  const [r, c] = x.shape;
  return (wasmSwapAxes(x, 1, r, c, 1, [c, r]) ?? tf.transpose(x)) as tf.Tensor2D; // (C, R)
}

/** (G, R, C) → (G, C, R). */
export function transposeLast2(x: tf.Tensor3D): tf.Tensor3D {
  const [g, r, c] = x.shape;
  return (wasmSwapAxes(x, g, r, c, 1, [g, c, r]) ?? tf.transpose(x, [0, 2, 1])) as tf.Tensor3D; // (G, C, R)
}

/** (A, B, C, D) → (A, C, B, D), e.g. (B, T, nh, hs) → (B, nh, T, hs) and back. */
export function swapAxes12(x: tf.Tensor4D): tf.Tensor4D {
  const [a, b, c, d] = x.shape;
  return (wasmSwapAxes(x, a, b, c, d, [a, c, b, d]) ?? tf.transpose(x, [0, 2, 1, 3])) as tf.Tensor4D; // (A, C, B, D)
}
