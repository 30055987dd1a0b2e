import type * as tf from '@tensorflow/tfjs-core';
import { currentWasmBackend, type HeapEntry, type WasmBackend } from './module.js';

/**
 * Copies between a float32 tensor's memory on the wasm heap and a plain Float32Array, with one
 * memcpy and no tensor made. A data-parallel replica moves its whole model through these twice a
 * step (the shared weights in, its gradients out): tf.tensor + assign made a copy, a heap
 * allocation and a kernel per weight (~5 ms a step on the recipe), dataSync another copy per
 * gradient. Off wasm both return false and the caller takes the tfjs way.
 */

/** t's backend entry when t is float32 on the wasm heap, else undefined. */
function entryOf(be: WasmBackend | undefined, t: tf.Tensor): HeapEntry | undefined {
  if (be === undefined || t.dtype !== 'float32' || t.isDisposed) return undefined;
  const entry = be.dataIdMap.get(t.dataId);
  return entry !== undefined && typeof entry.memoryOffset === 'number' ? entry : undefined;
}

/**
 * t's backend entry when t is float32 on the wasm heap and no other tensor shares its data (no
 * clone or reshape of it is alive), so that writing its memory in place changes t alone; else
 * undefined. tfjs treats tensors as immutable: only a sole owner may do this (a replica for its
 * variables, AdamW for the weights and moments it updates).
 */
export function soleHeapEntry(be: WasmBackend | undefined, t: tf.Tensor): HeapEntry | undefined {
  const entry = entryOf(be, t);
  return entry !== undefined && entry.refCount === 1 ? entry : undefined;
}

/**
 * After an in-place write of t's memory: the module's BatchMatMul keeps XNNPACK's packed copy of a
 * right operand by tensor id until the id is disposed, so dispose and register the id again (same
 * memory) and that copy is dropped.
 */
export function forgetPackedCopy(be: WasmBackend, entry: HeapEntry, size: number): void {
  be.wasm._dispose_data(entry.id);
  be.wasm._register_tensor(entry.id, size, entry.memoryOffset);
}

/**
 * Overwrites t's elements with src[from, from + t.size) in place, when t is float32 on the wasm
 * heap and no other tensor shares its data; false (nothing written) otherwise.
 */
export function overwriteOnHeap(t: tf.Tensor, src: Float32Array, from: number): boolean {
  const be = currentWasmBackend();
  const entry = soleHeapEntry(be, t);
  if (be === undefined || entry === undefined) return false;
  new Float32Array(be.wasm.HEAPF32.buffer, entry.memoryOffset, t.size).set(src.subarray(from, from + t.size));
  forgetPackedCopy(be, entry, t.size);
  return true;
}

/** Copies t's elements into dst at `to`, when t is float32 on the wasm heap; false otherwise. */
export function readFromHeap(t: tf.Tensor, dst: Float32Array, to: number): boolean {
  const be = currentWasmBackend();
  const entry = entryOf(be, t);
  if (be === undefined || entry === undefined) return false;
  dst.set(new Float32Array(be.wasm.HEAPF32.buffer, entry.memoryOffset, t.size), to);
  return true;
}
