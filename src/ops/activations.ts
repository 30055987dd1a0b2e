import * as tf from '@tensorflow/tfjs-core';
import { customOp } from './customOp.js';
import { fusedKernels } from './fused.js';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** Exact GeLU(x) = x·Φ(x), Φ the standard normal CDF = ½(1 + erf(x/√2)). */
function geluPlain(x: tf.Tensor): tf.Tensor {
  const phi = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, SQRT1_2)))); // Φ(x), same shape as x
  return tf.mul(x, phi);
}

// d/dx x·Φ(x) = Φ(x) + x·φ(x), with φ(x) = e^{−x²/2}/√(2π).
const geluFast = customOp((save, x: tf.Tensor) => {
  save([x]);
  return {
    value: geluPlain(x),
    gradFunc: (dy: tf.Tensor, [sx]: tf.Tensor[]) => {
      const phi = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(sx, SQRT1_2)))); // Φ(x)
      const density = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(-0.5, tf.square(sx)))); // φ(x)
      return tf.mul(dy, tf.add(phi, tf.mul(sx, density)));
    },
  };
});

/** Exact GeLU, x·Φ(x) (Hendrycks & Gimpel 2016). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return (fusedKernels() ? geluFast(x) : geluPlain(x)) as T;
}

/** GPT-2's approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
function geluTanhPlain(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(GELU_C, tf.pow(x, 3)))); // u(x)
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

// d/dx ½x(1 + tanh u) = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
const geluTanhFast = customOp((save, x: tf.Tensor) => {
  const x2 = tf.square(x);
  const t = tf.tanh(tf.mul(SQRT_2_OVER_PI, tf.mul(x, tf.add(1, tf.mul(GELU_C, x2))))); // tanh u
  save([x, t]);
  return {
    value: tf.mul(tf.mul(0.5, x), tf.add(1, t)),
    gradFunc: (dy: tf.Tensor, [sx, st]: tf.Tensor[]) => {
      const du = tf.mul(SQRT_2_OVER_PI, tf.add(1, tf.mul(3 * GELU_C, tf.square(sx)))); // u'(x)
      const sech2 = tf.sub(1, tf.square(st)); // 1 − tanh²u
      const g = tf.add(tf.mul(0.5, tf.add(1, st)), tf.mul(tf.mul(0.5, sx), tf.mul(sech2, du)));
      return tf.mul(dy, g);
    },
  };
});

/** GPT-2's tanh GeLU ("gelu_new" in Hugging Face's configs). */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  return (fusedKernels() ? geluTanhFast(x) : geluTanhPlain(x)) as T;
}

/** Swish / SiLU: x·σ(x), the gate of SwiGLU. */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}
