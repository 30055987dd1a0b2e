import * as tf from '@tensorflow/tfjs-core';
import { isWasmHeapBackend, wasmKernelReady } from './module.js';

/**
 * dE = Σ_n e_{ids[n]} dY[n]: the gradient of a row lookup E[ids], a (V, C) table that is zero but
 * for the rows looked up, where repeated ids add. It costs O(N·C), where the one-hot product
 * onehot(ids)ᵀ·dY costs O(V·N·C) and an (N, V) one-hot matrix: for GPT-2's 50,257 tokens and
 * 8,192 positions that is ~300 GFLOP and 1.6 GB a step against ~6 M additions.
 *
 * tfjs computes it as UnsortedSegmentSum, which tfjs-backend-wasm 4.22 lacks; there it runs as a
 * JS kernel on the wasm heap.
 */
export const WASM_SCATTER_ROWS = 'TinyGptScatterRows';

function kernelFunc({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  if (!isWasmHeapBackend(backend)) throw new Error(`${WASM_SCATTER_ROWS} runs only on tfjs-backend-wasm 4.x.`);
  const [ids, dy] = [inputs.ids as tf.TensorInfo, inputs.dy as tf.TensorInfo];
  const vocab = (attrs ?? {}).vocab as number;
  const c = dy.shape[1];
  const out = backend.makeOutput([vocab, c], 'float32'); // (V, C)
  // Views after the allocation, which may grow (and detach) the heap.
  const [o, g, rows] = [backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(ids)];
  o.fill(0);
  for (let n = 0; n < rows.length; n++) {
    if (!(rows[n] >= 0 && rows[n] < vocab)) throw new Error(`embedding gradient: token id ${rows[n]} is outside [0, ${vocab}).`);
    const [to, from] = [rows[n] * c, n * c];
    for (let j = 0; j < c; j++) o[to + j] += g[from + j];
  }
  return out;
}

function wasmAvailable(): boolean {
  return wasmKernelReady(WASM_SCATTER_ROWS, kernelFunc as tf.KernelFunc, isWasmHeapBackend);
}

/** (V, C) table of zeros with dY's rows (N, C) added at rows ids (N, int32, each in [0, V)). */
export function scatterRows(ids: tf.Tensor1D, dy: tf.Tensor2D, vocab: number): tf.Tensor2D {
  if (wasmAvailable()) return tf.engine().runKernel(WASM_SCATTER_ROWS, { ids, dy }, { vocab }) as tf.Tensor2D; // (V, C)
  return tf.unsortedSegmentSum(dy, ids, vocab); // (V, C)
}
