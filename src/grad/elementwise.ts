/**
 * Gradients of the element-wise kernels tinygpt's forward and backward passes record: binary
 * arithmetic (with broadcasting) and the unary functions of the activations and norms.
 */
import * as tf from '@tensorflow/tfjs-core';
import { unbroadcast } from './shapes.js';

/** A float view of a saved input (integer tensors take part in products as their values). */
const f32 = (t: tf.Tensor): tf.Tensor => (t.dtype === 'float32' ? t : tf.cast(t, 'float32'));

const asOne = (dy: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(dy) ? dy[0] : dy);

/** A binary kernel with inputs a, b: each partial derivative is reduced back to its input's shape. */
function binary(
  kernelName: string,
  da: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  db: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const g = asOne(dy);
      return {
        a: () => unbroadcast(da(g, a, b), a.shape),
        b: () => unbroadcast(db(g, a, b), b.shape),
      };
    },
  };
}

/** A unary kernel with input x; `needs` says whether its derivative reads x or the output y. */
function unary(kernelName: string, needs: 'x' | 'y', dx: (dy: tf.Tensor, saved: tf.Tensor) => tf.Tensor): tf.GradConfig {
  return {
    kernelName,
    ...(needs === 'x' ? { inputsToSave: ['x'] } : { outputsToSave: [true] }),
    gradFunc: (dy, saved) => ({ x: () => dx(asOne(dy), saved[0]) }),
  };
}

/** 2/√π, the factor in d erf(x)/dx = 2/√π · e^(−x²). */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

export const ELEMENTWISE_GRADIENTS: readonly tf.GradConfig[] = [
  // ∂(a + b)/∂a = ∂(a + b)/∂b = 1
  binary(
    tf.Add,
    (dy) => dy,
    (dy) => dy,
  ),
  // ∂(a − b)/∂b = −1
  binary(
    tf.Sub,
    (dy) => dy,
    (dy) => tf.neg(dy),
  ),
  // ∂(ab)/∂a = b, ∂(ab)/∂b = a
  binary(
    tf.Multiply,
    (dy, _a, b) => tf.mul(dy, f32(b)),
    (dy, a) => tf.mul(dy, f32(a)),
  ),
  // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
  binary(
    tf.RealDiv,
    (dy, _a, b) => tf.div(dy, f32(b)),
    (dy, a, b) => tf.neg(tf.div(tf.mul(dy, f32(a)), tf.square(f32(b)))),
  ),
  // y = a^b: ∂y/∂a = b·a^(b−1); ∂y/∂b = a^b·ln a, taken as 0 where a ≤ 0 (ln undefined there)
  binary(
    tf.Pow,
    (dy, a, b) => tf.mul(dy, tf.mul(f32(b), tf.pow(f32(a), tf.sub(f32(b), 1)))),
    (dy, a, b) => {
      const fa = f32(a);
      const positive = tf.greater(fa, 0);
      const logA = tf.where(positive, tf.log(tf.where(positive, fa, tf.onesLike(fa))), tf.zerosLike(fa));
      return tf.mul(dy, tf.mul(tf.pow(fa, f32(b)), logA));
    },
  ),
  unary(tf.Neg, 'x', (dy) => tf.neg(dy)),
  // d x²/dx = 2x
  unary(tf.Square, 'x', (dy, x) => tf.mul(dy, tf.mul(f32(x), 2))),
  // d √x/dx = 1/(2√x)
  unary(tf.Sqrt, 'x', (dy, x) => tf.div(dy, tf.mul(tf.sqrt(f32(x)), 2))),
  // d x^(−1/2)/dx = −½·x^(−3/2)
  unary(tf.Rsqrt, 'x', (dy, x) => tf.mul(dy, tf.mul(tf.pow(f32(x), -1.5), -0.5))),
  // d eˣ/dx = eˣ = y
  unary(tf.Exp, 'y', (dy, y) => tf.mul(dy, y)),
  // d ln x/dx = 1/x
  unary(tf.Log, 'x', (dy, x) => tf.div(dy, f32(x))),
  // d tanh x/dx = 1 − tanh² x = 1 − y²
  unary(tf.Tanh, 'y', (dy, y) => tf.mul(dy, tf.sub(1, tf.square(y)))),
  // d σ(x)/dx = σ(x)(1 − σ(x)) = y(1 − y)
  unary(tf.Sigmoid, 'y', (dy, y) => tf.mul(dy, tf.mul(y, tf.sub(1, y)))),
  // d softplus(x)/dx = d ln(1 + eˣ)/dx = σ(x) (DPO's −ln σ(z) = softplus(−z))
  unary(tf.Softplus, 'x', (dy, x) => tf.mul(dy, tf.sigmoid(f32(x)))),
  // d relu(x)/dx = 1 for x > 0, else 0
  unary(tf.Relu, 'x', (dy, x) => tf.mul(dy, tf.cast(tf.greater(x, 0), 'float32'))),
  // d erf(x)/dx = 2/√π · e^(−x²)
  unary(tf.Erf, 'x', (dy, x) => tf.mul(dy, tf.mul(tf.exp(tf.neg(tf.square(f32(x)))), TWO_OVER_SQRT_PI))),
  // a cast passes the gradient through unchanged (back to float for float inputs)
  unary(tf.Cast, 'x', (dy) => dy),
];
