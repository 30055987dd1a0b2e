import type * as tf from '@tensorflow/tfjs-core';
import { heapCall } from './heapKernels.js';
import { currentWasmBackend, heapOffset } from './module.js';

/**
 * Σ x² of a float32 tensor on the wasm heap, summed in float64 and returned as a number, with no
 * kernel dispatched and no device sync (the heap is this thread's memory): updateKernels.wat's
 * reduce over one slot (which stores each block back unchanged and returns the sum of its
 * squares) up to a multiple of 4 elements, then a JS loop. Undefined off wasm or where the
 * kernels cannot load. A gradient norm from these takes two calls per weight instead of tfjs's
 * Square, Sum and AddN (~110 kernels a step on the recipe).
 */
export function wasmSumSquares(x: tf.Tensor): number | undefined {
  const be = currentWasmBackend();
  const h = heapCall(be);
  if (be === undefined || h === undefined || x.dtype !== 'float32' || x.isDisposed) return undefined;
  const at = heapOffset(be, x);
  const n = x.size;
  let sq = h.ex.reduce(at, n, 1, 0); // () Σ over the first 4·⌊n/4⌋ elements
  const heap = be.wasm.HEAPF32;
  for (let i = n - (n % 4); i < n; i++) {
    const v = heap[(at >> 2) + i];
    sq += v * v;
  }
  return sq;
}
