import * as tf from '@tensorflow/tfjs-core';
import { customOp } from './customOp.js';
import { columnSums } from './matmul.js';
import { wasmLayerNorm, wasmLayerNormAvailable, wasmLayerNormGrad } from './wasm/layerNorm.js';

/** x̂ = (x − μ)/√(σ² + ε) per row, with μ, σ² the row's mean and (biased) variance. */
function normalizeRows(x: tf.Tensor2D, eps: number): { xhat: tf.Tensor2D; rstd: tf.Tensor2D } {
  // tf.moments' arithmetic, keeping x − μ for x̂ instead of computing it twice.
  const centred = tf.sub(x, tf.mean(x, 1, true)); // (N, C)
  const variance = tf.mean(tf.square(centred), 1, true); // (N, 1)
  const rstd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor2D; // (N, 1)
  return { xhat: tf.mul(centred, rstd), rstd }; // (N, C)
}

/**
 * LN(x) = γ ⊙ x̂ + β with the backward pass in closed form (g = dy ⊙ γ):
 *   dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  dγ = Σ_rows dy ⊙ x̂,  dβ = Σ_rows dy.
 */
const layerNormFastBias = (eps: number) =>
  customOp((save, x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => {
    const { xhat, rstd } = normalizeRows(x, eps);
    save([xhat, rstd, gamma]);
    return {
      value: tf.add(tf.mul(xhat, gamma), beta), // (N, C)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dx, dgamma] = layerNormBackward(dy as tf.Tensor2D, saved);
        return [dx, dgamma, columnSums(dy as tf.Tensor2D)];
      },
    };
  });

const layerNormFastNoBias = (eps: number) =>
  customOp((save, x: tf.Tensor2D, gamma: tf.Tensor1D) => {
    const { xhat, rstd } = normalizeRows(x, eps);
    save([xhat, rstd, gamma]);
    return {
      value: tf.mul(xhat, gamma), // (N, C)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => layerNormBackward(dy as tf.Tensor2D, saved),
    };
  });

function layerNormBackward(dy: tf.Tensor2D, saved: tf.Tensor[]): [tf.Tensor, tf.Tensor] {
  const [xhat, rstd, gamma] = saved;
  const g = tf.mul(dy, gamma); // (N, C)
  const meanG = tf.mean(g, 1, true); // (N, 1)
  const meanGX = tf.mean(tf.mul(g, xhat), 1, true); // (N, 1)
  const dx = tf.mul(rstd, tf.sub(tf.sub(g, meanG), tf.mul(xhat, meanGX))); // (N, C)
  return [dx, columnSums(tf.mul(dy, xhat))]; // (N, C), (C)
}

/**
 * The same LayerNorm on wasm as two heap kernels (src/ops/wasm/layerNorm.ts): one kernel forward
 * writing y, x̂ and rstd, one backward writing dx, dγ and dβ, in place of ~20 tfjs kernels.
 */
const layerNormWasm = (eps: number, bias: boolean) =>
  customOp((save, ...inputs: tf.Tensor[]) => {
    const [x, gamma, beta] = inputs as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D?];
    const [y, xhat, rstd] = wasmLayerNorm(x, gamma, beta, eps); // (N, C), (N, C), (N, 1)
    save([xhat, rstd, gamma]);
    return {
      value: y, // (N, C)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sr, sg] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const [dx, dgamma, dbeta] = wasmLayerNormGrad(dy as tf.Tensor2D, sx, sr, sg); // (N, C), (C), (C)
        return bias ? [dx, dgamma, dbeta] : [dx, dgamma];
      },
    };
  });

/** Layer normalization over the last axis of a 2-D x (N, C) with gain γ and optional offset β. */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D | undefined, eps: number): tf.Tensor2D {
  if (x.dtype === 'float32' && x.rank === 2 && wasmLayerNormAvailable(x.shape[1])) {
    const f = layerNormWasm(eps, beta !== undefined);
    return (beta ? f(x, gamma, beta) : f(x, gamma)) as tf.Tensor2D; // (N, C)
  }
  const y = beta ? layerNormFastBias(eps)(x, gamma, beta) : layerNormFastNoBias(eps)(x, gamma);
  return y as tf.Tensor2D;
}
