import * as tf from '@tensorflow/tfjs-core';
import { heapCall, heapKernelsAvailable } from './heapKernels.js';
import { registerWasmKernels } from './module.js';

/**
 * Σ_rows x for x (N, C), C a multiple of 4, as a wasm-backend kernel over heapKernels.wat: one
 * pass summing in double. Computed as the product 1ᵀ·x it is a 2-D matMul whose right operand is
 * x, which XNNPACK repacks as a fresh weight matrix on every call (x is a new gradient each step):
 * ~1-3 ms for a (768, 512) gradient against ~0.1 ms here.
 */
export const WASM_COLUMN_SUMS = 'TinyGptColumnSums';

function kernelFunc({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_COLUMN_SUMS} runs only on tfjs-backend-wasm 4.x.`);
  const x = inputs.x as tf.TensorInfo;
  const [rows, c] = x.shape;
  const out = h.be.makeOutput([c], 'float32'); // (C)
  const acc = h.be.wasm._malloc(8 * c + 16); // C doubles, plus slack to align them to 16 bytes
  try {
    h.ex.column_sums(h.at(x), h.at(out), (acc + 15) & ~15, rows, c);
  } finally {
    h.be.wasm._free(acc);
  }
  return out;
}

/** Σ_rows x (C) for float32 x (N, C); undefined (nothing run) off wasm, for empty x or C not a multiple of 4. */
export function wasmColumnSums(x: tf.Tensor2D): tf.Tensor1D | undefined {
  const [rows, c] = x.shape;
  if (x.dtype !== 'float32' || rows === 0 || c === 0 || c % 4 !== 0 || !heapKernelsAvailable()) return undefined;
  registerWasmKernels({ [WASM_COLUMN_SUMS]: kernelFunc });
  return tf.engine().runKernel(WASM_COLUMN_SUMS, { x }) as tf.Tensor1D; // (C)
}
