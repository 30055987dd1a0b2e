import * as tf from '@tensorflow/tfjs-core';
import { customOp } from './customOp.js';
import { wasmGelu, wasmGeluAvailable } from './wasm/gelu.js';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** Φ(x), the standard normal CDF = ½(1 + erf(x/√2)). */
function normalCdf(x: tf.Tensor): tf.Tensor {
  return tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, SQRT1_2)))); // same shape as x
}

// d/dx x·Φ(x) = Φ(x) + x·φ(x), with φ(x) = e^{−x²/2}/√(2π). Φ is kept from the forward pass:
// erf is the slowest kernel of the step on wasm (a scalar libm call per element).
const geluFast = customOp((save, x: tf.Tensor) => {
  const phi = normalCdf(x); // Φ(x)
  save([x, phi]);
  return {
    value: tf.mul(x, phi),
    gradFunc: (dy: tf.Tensor, [sx, sphi]: tf.Tensor[]) => {
      const density = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(-0.5, tf.square(sx)))); // φ(x)
      return tf.mul(dy, tf.add(sphi, tf.mul(sx, density)));
    },
  };
});

// On wasm one JS kernel writes x·Φ(x) and the derivative Φ + x·φ together (see wasmGelu.ts).
const geluWasm = customOp((save, x: tf.Tensor) => {
  const [y, dydx] = wasmGelu(x);
  save([dydx]);
  return { value: y, gradFunc: (dy: tf.Tensor, [sd]: tf.Tensor[]) => tf.mul(dy, sd) };
});

/** Exact GeLU, x·Φ(x) (Hendrycks & Gimpel 2016). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return (wasmGeluAvailable() ? geluWasm(x) : geluFast(x)) as T;
}

/** GPT-2's approximation ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³), with its slope written out. */
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
  return geluTanhFast(x) as T;
}

/** Swish / SiLU: x·σ(x), the gate of SwiGLU. */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}
