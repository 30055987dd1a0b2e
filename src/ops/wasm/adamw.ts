import * as tf from '@tensorflow/tfjs-core';
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

/** AdamW's scalars for one step, each rounded to float32 as tfjs rounds a number operand. */
export interface AdamWScalars {
  /** β1, the first moment's decay. */
  readonly beta1: number;
  /** β2, the second moment's decay. */
  readonly beta2: number;
  /** ε added to the corrected √v. */
  readonly eps: number;
  /** √(1 − β2ᵗ), the second moment's bias correction. */
  readonly sqrtBc2: number;
  /** lr / (1 − β1ᵗ), the step with the first moment's bias correction. */
  readonly stepSize: number;
  /** 1 − lr·λ for decayed weights, 1 for the others (p·1 is exact). */
  readonly keep: number;
}

function kernelFunc({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo[] {
  const h = heapCall(backend);
  if (h === undefined || !isWasmHeapBackend(backend)) throw new Error(`${WASM_ADAMW} runs only on tfjs-backend-wasm 4.x.`);
  const { param, m, v, g, scale } = inputs as Record<string, tf.TensorInfo | undefined>;
  const shape = [...(param as tf.TensorInfo).shape];
  const count = shape.reduce((a, b) => a * b, 1);
  const [po, mo, vo] = [0, 1, 2].map(() => h.be.makeOutput(shape, 'float32'));
  // The clip factor is one float32 on the heap: reading it is a load, not a device sync.
  const gradScale = scale === undefined ? 1 : (backend.typedArrayFromHeap(scale) as Float32Array)[0];
  const a = attrs as unknown as AdamWScalars;
  h.ex.adamw(
    h.at(param as tf.TensorInfo),
    h.at(m as tf.TensorInfo),
    h.at(v as tf.TensorInfo),
    h.at(g as tf.TensorInfo),
    h.at(po),
    h.at(mo),
    h.at(vo),
    count,
    gradScale,
    a.beta1,
    1 - a.beta1,
    a.beta2,
    1 - a.beta2,
    a.sqrtBc2,
    a.eps,
    a.stepSize,
    a.keep,
  );
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
 * [p', m', v'] of one AdamW step for float32 tensors of at least 4 elements, g multiplied by
 * `scale` (a scalar tensor, the clip factor) first when given; call only when
 * {@link wasmAdamWAvailable} is true. The inputs are left as they are.
 */
export function wasmAdamW(
  t: { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor; g: tf.Tensor; scale?: tf.Scalar },
  scalars: AdamWScalars,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (t.param.size < 4) throw new Error(`wasmAdamW: the kernel needs at least 4 elements, got ${t.param.size}.`);
  const inputs: tf.NamedTensorMap = t.scale ? { param: t.param, m: t.m, v: t.v, g: t.g, scale: t.scale } : { param: t.param, m: t.m, v: t.v, g: t.g };
  return tf.engine().runKernel(WASM_ADAMW, inputs, { ...scalars }) as [tf.Tensor, tf.Tensor, tf.Tensor];
}
