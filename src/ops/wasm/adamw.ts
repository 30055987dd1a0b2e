import * as tf from '@tensorflow/tfjs-core';
import type { AdamWScalars } from '../adamwRange.js';
import { forgetPackedCopy, soleHeapEntry } from './heapCopy.js';
import { adamwOnMemory, heapCall, heapKernelsAvailable } from './heapKernels.js';
import { currentWasmBackend, heapOffset, isWasmHeapBackend, registerWasmKernels } from './module.js';

/**
 * One AdamW update of one parameter as a single wasm-backend kernel over updateKernels.wat.
 *
 * Written with tfjs ops, train/adamw.ts's update is 13 kernels per parameter (and the clip's
 * product one more), ~700 dispatches a step for the recipe's 53 weights; this is one pass per
 * weight. The kernel runs the same float32 operations in the same order as those ops, so the
 * moments and weights it writes are theirs bit for bit (test/adamw.test.ts compares both).
 */
export const WASM_ADAMW = 'TinyGptAdamW';

function kernelFunc({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo[] {
  const h = heapCall(backend);
  if (h === undefined || !isWasmHeapBackend(backend)) throw new Error(`${WASM_ADAMW} runs only on tfjs-backend-wasm 4.x.`);
  const [p, mi, vi, gi] = [inputs.param, inputs.m, inputs.v, inputs.g] as tf.TensorInfo[];
  const shape = [...p.shape];
  const count = shape.reduce((a, b) => a * b, 1);
  const [po, mo, vo] = [0, 1, 2].map(() => h.be.makeOutput(shape, 'float32'));
  const scalars = attrs as unknown as AdamWScalars;
  const at = { p: h.at(p), m: h.at(mi), v: h.at(vi), g: h.at(gi), po: h.at(po), mo: h.at(mo), vo: h.at(vo) };
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const arrays = () => ({ p: view(p), m: view(mi), v: view(vi), g: view(gi), po: view(po), mo: view(mo), vo: view(vo) });
  adamwOnMemory(h.ex, at, arrays, 0, count, scalars);
  return [po, mo, vo];
}

/** True when the current backend is wasm with the heap kernels (registering the kernel on first use). */
export function wasmAdamWAvailable(): boolean {
  if (!heapKernelsAvailable()) return false;
  registerWasmKernels({ [WASM_ADAMW]: kernelFunc });
  return true;
}

/**
 * [p', m', v'] of one AdamW step for float32 tensors, g multiplied by `scalars.scale` (the clip
 * factor) first; call only when {@link wasmAdamWAvailable} is true. The inputs are left as they are.
 */
export function wasmAdamW(t: { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor; g: tf.Tensor }, scalars: AdamWScalars): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const inputs: tf.NamedTensorMap = { param: t.param, m: t.m, v: t.v, g: t.g };
  return tf.engine().runKernel(WASM_ADAMW, inputs, { ...scalars }) as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/**
 * The same AdamW step written over param, m and v themselves, with no kernel dispatched and no
 * tensor made: when the kernels are loaded and all four are float32 on the wasm heap, and param,
 * m and v each own their data alone (nothing else sees the write); else false and nothing is
 * written. `scalars.scale` is the clip factor as a number. Through the engine, a step of the
 * recipe's 52 weights was 52 kernels with three new outputs each and 156 assigns (~4-6 ms).
 */
export function wasmAdamWInPlace(t: { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor; g: tf.Tensor }, scalars: AdamWScalars): boolean {
  const be = currentWasmBackend();
  const h = heapCall(be);
  if (be === undefined || h === undefined || t.g.dtype !== 'float32' || t.g.isDisposed) return false;
  const owned = [t.param, t.m, t.v].map((x) => soleHeapEntry(be, x));
  const [pe, me, ve] = owned;
  if (pe === undefined || me === undefined || ve === undefined) return false;
  const count = t.param.size;
  if (t.m.size !== count || t.v.size !== count || t.g.size !== count) return false;
  const g = heapOffset(be, t.g);
  const at = { p: pe.memoryOffset, m: me.memoryOffset, v: ve.memoryOffset, g, po: pe.memoryOffset, mo: me.memoryOffset, vo: ve.memoryOffset };
  const arrays = () => {
    const view = (off: number) => new Float32Array(be.wasm.HEAPF32.buffer, off, count);
    return { p: view(at.p), m: view(at.m), v: view(at.v), g: view(g), po: view(at.p), mo: view(at.m), vo: view(at.v) };
  };
  adamwOnMemory(h.ex, at, arrays, 0, count, scalars);
  // The weight changed under its tensor id: a product that cached its packed copy must not reuse it.
  forgetPackedCopy(be, pe, count);
  return true;
}
