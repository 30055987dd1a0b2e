import * as tf from '@tensorflow/tfjs-core';
import { heapCall, heapKernelsAvailable } from './heapKernels.js';

/**
 * Aᵀ·B for 2-D A (K, M), B (K, N) as a wasm-backend kernel over heapKernels.wat's matmul_tn, which
 * reads A's columns in place: a weight gradient xᵀ·dy then needs no transpose of x, and no
 * repacking of dy as XNNPACK weights (dy is new every step). Used where A fits the L2 cache
 * (M·K ≤ 128K floats), where it measured faster than transpose + XNNPACK: 0.9 against 2.2 ms for
 * (768, 128)ᵀ·(768, 128), 2.7 against 3.9 ms for (768, 128)ᵀ·(768, 384), 3.9 against 5.5-8 ms
 * for (768, 128)ᵀ·(768, 512); for a (768, 512) x it only draws level.
 */
export const WASM_MATMUL_TN = 'TinyGptMatMulTN';
const MAX_A_FLOATS = 128 * 1024;

function kernelFunc({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_MATMUL_TN} runs only on tfjs-backend-wasm 4.x.`);
  const [a, b] = [inputs.a, inputs.b] as tf.TensorInfo[];
  const [k, m] = a.shape;
  const n = b.shape[1];
  const out = h.be.makeOutput([m, n], 'float32'); // (M, N)
  h.ex.matmul_tn(h.at(a), h.at(b), h.at(out), m, k, n);
  return out;
}

/** Aᵀ·B (M, N) for float32 A (K, M), B (K, N); undefined (nothing run) off wasm and where the tiles or the cache rule do not fit. */
export function wasmMatMulTN(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D | undefined {
  const [k, m] = a.shape;
  const n = b.shape[1];
  const fits = k > 0 && k === b.shape[0] && m % 4 === 0 && n % 8 === 0 && m > 0 && n > 0 && m * k <= MAX_A_FLOATS;
  if (!fits || a.dtype !== 'float32' || b.dtype !== 'float32' || !heapKernelsAvailable()) return undefined;
  if (tf.getKernel(WASM_MATMUL_TN, 'wasm') === undefined) {
    tf.registerKernel({ kernelName: WASM_MATMUL_TN, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
  }
  return tf.engine().runKernel(WASM_MATMUL_TN, { a, b }) as tf.Tensor2D; // (M, N)
}
