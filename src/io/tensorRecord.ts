/**
 * Bridges between tf.Tensors and the plain {shape, data} records the safetensors reader
 * and writer exchange.
 */
import * as tf from '@tensorflow/tfjs-core';
import { numElements, shapeProblem, type TensorData } from './safetensorsTypes.js';

/**
 * Reads each tensor's values once (one `data()` per tensor) into a fresh array the caller
 * owns; the tensors are neither disposed nor changed. float32 → Float32Array,
 * int32 → Int32Array; other dtypes are rejected.
 */
export async function tensorsToRecord(
  tensors: ReadonlyMap<string, tf.Tensor>,
): Promise<Map<string, { shape: number[]; data: Float32Array | Int32Array }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
  for (const [name, t] of tensors) {
    if (t.isDisposed) throw new Error(`tensorsToRecord: tensor "${name}" is already disposed; save before disposing.`);
    if (t.dtype !== 'float32' && t.dtype !== 'int32') {
      throw new Error(`tensorsToRecord: tensor "${name}" has dtype ${t.dtype}; cast it to float32 or int32 first.`);
    }
    const values = await t.data();
    // Copy: the cpu backend hands back its own storage, which must not escape to callers.
    const data = t.dtype === 'float32' ? new Float32Array(values as Float32Array) : new Int32Array(values as Int32Array);
    out.set(name, { shape: [...t.shape], data });
  }
  return out;
}

/**
 * Creates one tensor per record (Float32Array → float32, Int32Array → int32) from a copy
 * of its data. The caller owns the returned tensors and must dispose them. If any record
 * is malformed nothing is allocated.
 */
export function recordToTensors(records: ReadonlyMap<string, TensorData>): Map<string, tf.Tensor> {
  for (const [name, r] of records) {
    const problem = shapeProblem(r.shape);
    if (problem !== null) throw new Error(`recordToTensors: tensor "${name}": ${problem}.`);
    if (!(r.data instanceof Float32Array) && !(r.data instanceof Int32Array)) {
      throw new Error(`recordToTensors: tensor "${name}": data must be a Float32Array or Int32Array.`);
    }
    const n = numElements(r.shape);
    if (r.data.length !== n) {
      throw new Error(
        `recordToTensors: tensor "${name}": shape ${JSON.stringify(r.shape)} has ${n} elements but data has ${r.data.length}.`,
      );
    }
  }
  const out = new Map<string, tf.Tensor>();
  for (const [name, r] of records) {
    const dtype = r.data instanceof Float32Array ? 'float32' : 'int32';
    // slice(): the cpu backend would otherwise keep the caller's array as its storage.
    out.set(name, tf.tensor(r.data.slice(), [...r.shape], dtype)); // (...r.shape)
  }
  return out;
}
