import * as tf from '@tensorflow/tfjs-core';
import { heapCall, heapKernelsAvailable } from './heapKernels.js';
import { registerWasmKernels } from './module.js';

/**
 * LayerNorm's forward and backward passes as two wasm-backend kernels over normKernels.wat.
 *
 * Written with tfjs ops, a LayerNorm of the recipe model (768 × 128) is ~10 kernels forward and
 * ~12 backward (means, centring, rsqrt, products, two column sums), each a pass over the data and
 * a dispatch; here each direction is one kernel, four floats a step, with the row means and the
 * column sums in double. Rows whose width is not a multiple of 4 take the tfjs ops.
 */
export const WASM_LAYER_NORM = 'TinyGptLayerNorm';
export const WASM_LAYER_NORM_GRAD = 'TinyGptLayerNormGrad';

function forwardKernel({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo[] {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_LAYER_NORM} runs only on tfjs-backend-wasm 4.x.`);
  const [x, gamma, beta] = [inputs.x, inputs.gamma, inputs.beta] as Array<tf.TensorInfo | undefined>;
  const [rows, c] = (x as tf.TensorInfo).shape;
  const y = h.be.makeOutput([rows, c], 'float32'); // (N, C)
  const xhat = h.be.makeOutput([rows, c], 'float32'); // (N, C)
  const rstd = h.be.makeOutput([rows, 1], 'float32'); // (N, 1)
  const eps = attrs?.eps as number;
  const g = h.at(gamma as tf.TensorInfo);
  h.ex.layernorm_fwd(h.at(x as tf.TensorInfo), g, beta ? h.at(beta) : g, beta ? 1 : 0, h.at(y), h.at(xhat), h.at(rstd), rows, c, eps);
  return [y, xhat, rstd];
}

function backwardKernel({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo[] {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_LAYER_NORM_GRAD} runs only on tfjs-backend-wasm 4.x.`);
  const [dy, xhat, rstd, gamma] = [inputs.dy, inputs.xhat, inputs.rstd, inputs.gamma] as tf.TensorInfo[];
  const [rows, c] = dy.shape;
  const dx = h.be.makeOutput([rows, c], 'float32'); // (N, C)
  const dgamma = h.be.makeOutput([c], 'float32'); // (C)
  const dbeta = h.be.makeOutput([c], 'float32'); // (C)
  const acc = h.be.wasm._malloc(16 * c); // 2C doubles of column sums
  try {
    h.ex.layernorm_bwd(h.at(dy), h.at(xhat), h.at(rstd), h.at(gamma), h.at(dx), h.at(dgamma), h.at(dbeta), acc, rows, c);
  } finally {
    h.be.wasm._free(acc);
  }
  return [dx, dgamma, dbeta];
}

/** True when the current backend is wasm with the heap kernels and c is a multiple of 4 (registering both kernels on first use). */
export function wasmLayerNormAvailable(c: number): boolean {
  if (c % 4 !== 0 || !heapKernelsAvailable()) return false;
  registerWasmKernels({ [WASM_LAYER_NORM]: forwardKernel, [WASM_LAYER_NORM_GRAD]: backwardKernel });
  return true;
}

/** [y, x̂, rstd] of LayerNorm over the rows of float32 x (N, C); call only when {@link wasmLayerNormAvailable}. */
export function wasmLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D | undefined, eps: number): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  const inputs: tf.NamedTensorMap = beta ? { x, gamma, beta } : { x, gamma };
  return tf.engine().runKernel(WASM_LAYER_NORM, inputs, { eps }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]; // (N, C), (N, C), (N, 1)
}

/** [dx, dγ, dβ] of LayerNorm from dy (N, C) and the forward's x̂ (N, C), rstd (N, 1). */
export function wasmLayerNormGrad(dy: tf.Tensor2D, xhat: tf.Tensor2D, rstd: tf.Tensor2D, gamma: tf.Tensor1D): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D] {
  return tf.engine().runKernel(WASM_LAYER_NORM_GRAD, { dy, xhat, rstd, gamma }) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D]; // (N, C), (C), (C)
}
