import * as tf from '@tensorflow/tfjs-core';
import { isWasmHeapBackend, wasmKernelReady } from './module.js';
import { geluAndDerivative } from '../geluTable.js';
import { heapGelu } from './heapKernels.js';

/**
 * Exact GeLU and its derivative in one pass, as a wasm-backend kernel written in JS.
 *
 * On wasm, Erf and Exp are scalar libm calls per element (~10-25 ns each, the slowest kernels of a
 * training step), and GeLU's forward and backward need five more element-wise passes besides. This
 * kernel reads x once and writes y = x·Φ(x) and y' = Φ(x) + x·φ(x) from the table of geluTable.ts,
 * so the backward pass is a single multiply.
 */
export const WASM_GELU = 'TinyGptGelu';

function kernelFunc({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo[] {
  if (!isWasmHeapBackend(backend)) throw new Error(`${WASM_GELU} runs only on tfjs-backend-wasm 4.x.`);
  const x = inputs.x as tf.TensorInfo;
  const y = backend.makeOutput([...x.shape], 'float32');
  const dy = backend.makeOutput([...x.shape], 'float32');
  // heapKernels.wat's f32x4 loop, the same arithmetic several times faster than this JS one, when it loads.
  if (heapGelu(backend, x, y, dy)) return [y, dy];
  // Views are taken after both allocations: an allocation may grow (and detach) the heap.
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  geluAndDerivative(xs, backend.typedArrayFromHeap(y) as Float32Array, backend.typedArrayFromHeap(dy) as Float32Array);
  return [y, dy];
}

/** True when the current backend is wasm (registering the kernel on first use). */
export function wasmGeluAvailable(): boolean {
  return wasmKernelReady(WASM_GELU, kernelFunc as tf.KernelFunc, isWasmHeapBackend);
}

/** [x·Φ(x), Φ(x) + x·φ(x)] for float32 x on wasm; call only when {@link wasmGeluAvailable} is true. */
export function wasmGelu(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (x.dtype !== 'float32') throw new Error(`gelu: x must be float32, got ${x.dtype}; cast it with tf.cast(x, 'float32').`);
  if (!wasmGeluAvailable()) throw new Error('wasmGelu needs the wasm backend: call setBackend(\'wasm\') first.');
  return tf.engine().runKernel(WASM_GELU, { x }) as [tf.Tensor, tf.Tensor];
}
