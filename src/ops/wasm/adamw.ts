import * as tf from '@tensorflow/tfjs-core';
import { adamwRange, type AdamWScalars } from '../adamwRange.js';
import { heapCall, heapKernelsAvailable } from './heapKernels.js';
import { isWasmHeapBackend } from './module.js';

/**
 * One AdamW update of one parameter as a single wasm-backend kernel over heapKernels.wat.
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
  const { param, m, v, g, scale } = inputs as Record<string, tf.TensorInfo | undefined>;
  const shape = [...(param as tf.TensorInfo).shape];
  const count = shape.reduce((a, b) => a * b, 1);
  const [po, mo, vo] = [0, 1, 2].map(() => h.be.makeOutput(shape, 'float32'));
  // The clip factor is one float32 on the heap: reading it is a load, not a device sync.
  const gradScale = scale === undefined ? 1 : (backend.typedArrayFromHeap(scale) as Float32Array)[0];
  const a = { ...(attrs as unknown as Omit<AdamWScalars, 'scale'>), scale: gradScale };
  const at = [param, m, v, g, po, mo, vo].map((t) => h.at(t as tf.TensorInfo));
  const s = [a.scale, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.sqrtBc2, a.eps, a.stepSize, a.keep] as const;
  h.ex.adamw(at[0], at[1], at[2], at[3], at[4], at[5], at[6], count, ...s);
  if (count % 4 !== 0) {
    // The kernel stops at a multiple of 4; the same float32 arithmetic in JS finishes.
    const view = (t: tf.TensorInfo | undefined) => backend.typedArrayFromHeap(t as tf.TensorInfo) as Float32Array;
    const arrays = { p: view(param), m: view(m), v: view(v), g: view(g), po: view(po), mo: view(mo), vo: view(vo) };
    adamwRange(arrays, count - (count % 4), count, a);
  }
  return [po, mo, vo];
}

/** True when the current backend is wasm with the heap kernels (registering the kernel on first use). */
export function wasmAdamWAvailable(): boolean {
  if (!heapKernelsAvailable()) return false;
  if (tf.getKernel(WASM_ADAMW, 'wasm') === undefined) {
    tf.registerKernel({ kernelName: WASM_ADAMW, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
  }
  return true;
}

/**
 * [p', m', v'] of one AdamW step for float32 tensors, g multiplied by
 * `scale` (a scalar tensor, the clip factor) first when given; call only when
 * {@link wasmAdamWAvailable} is true. The inputs are left as they are.
 */
export function wasmAdamW(
  t: { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor; g: tf.Tensor; scale?: tf.Scalar },
  scalars: Omit<AdamWScalars, 'scale'>,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const inputs: tf.NamedTensorMap = t.scale ? { param: t.param, m: t.m, v: t.v, g: t.g, scale: t.scale } : { param: t.param, m: t.m, v: t.v, g: t.g };
  return tf.engine().runKernel(WASM_ADAMW, inputs, { ...scalars }) as [tf.Tensor, tf.Tensor, tf.Tensor];
}
