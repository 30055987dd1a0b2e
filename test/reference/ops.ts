import * as tf from '@tensorflow/tfjs-core';

/**
 * The plain autograd reference for every op of src/ops: the same functions written with tfjs's
 * stock ops and differentiated by tfjs, with none of the library's hand-written gradients, fused
 * kernels or wasm shortcuts. The parity tests compare the library against these.
 */

/** Φ(x) = ½(1 + erf(x/√2)). */
const normalCdf = (x: tf.Tensor) => tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));

/** Exact GeLU x·Φ(x). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, normalCdf(x)) as T;
}

/** GPT-2's ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner))) as T;
}

/** x·σ(x). */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x)) as T;
}

/** γ ⊙ (x − μ)/√(σ² + ε) + β per row of x (N, C). */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D | undefined, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, 1, true); // (N, 1) each
  const y = tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma); // (N, C)
  return (beta ? tf.add(y, beta) : y) as tf.Tensor2D;
}

/** γ ⊙ x / √(mean(x²) + ε) over the last axis. */
export function rmsNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, eps: number): T {
  return tf.mul(tf.div(x, tf.sqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), gamma) as T;
}

/** Mean of −ln softmax(z)[y] over the rows of logits (N, V). */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const logp = tf.logSoftmax(logits); // (N, V)
  const oneHot = tf.cast(tf.oneHot(targets, logits.shape[1]), 'float32'); // (N, V)
  return tf.neg(tf.mean(tf.sum(tf.mul(logp, oneHot), 1))) as tf.Scalar;
}

/** E[ids] as onehot(ids)·E: differentiable on every backend (wasm has no UnsortedSegmentSum for Gather's gradient). */
export function embedding(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  return tf.matMul(tf.cast(tf.oneHot(ids, table.shape[0]), 'float32') as tf.Tensor2D, table); // (N, C)
}

/** A·B. */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(a, b);
}

/** Batched A[g]·B[g]. */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return tf.matMul(a, b);
}

/** x·W + b. */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  const y: tf.Tensor2D = tf.matMul(x, weight); // (N, out)
  return bias ? tf.add(y, bias) : y;
}
