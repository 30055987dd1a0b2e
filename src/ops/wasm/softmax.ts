import * as tf from '@tensorflow/tfjs-core';
import { heapCall, heapKernelsAvailable } from './heapKernels.js';
import { registerWasmKernels } from './module.js';

/**
 * Attention's softmax, forward and backward, as wasm-backend kernels over softmaxKernels.wat.
 * With tfjs ops the forward is Mul, Add and Softmax and the backward Mul, Sum, Sub, Mul, Mul, each
 * a pass over the (B·nh, T, S) scores; here one kernel each, in SIMD, and under a causal mask
 * only the keys up to the diagonal are computed (the rest are written 0): about half the work.
 */
export const WASM_SOFTMAX = 'TinyGptScaledSoftmax';
export const WASM_SOFTMAX_GRAD = 'TinyGptScaledSoftmaxGrad';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/** Rows, queries per group and keys per row of (G, T, S) scores. */
function rowsOf(x: tf.TensorInfo): [number, number, number] {
  const [t, n] = x.shape.slice(-2);
  return [tf.util.sizeFromShape(x.shape) / n, t, n];
}

function forwardKernel({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_SOFTMAX} runs only on tfjs-backend-wasm 4.x.`);
  const [x, mask] = [inputs.x, inputs.mask] as tf.TensorInfo[];
  const p = h.be.makeOutput([...x.shape], 'float32'); // like x
  const [rows, t, n] = rowsOf(x);
  h.ex.softmax_fwd(h.at(x), h.at(mask), h.at(p), rows, t, n, attrs?.scale as number, attrs?.causal ? 1 : 0);
  return p;
}

function backwardKernel({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_SOFTMAX_GRAD} runs only on tfjs-backend-wasm 4.x.`);
  const [dp, p] = [inputs.dp, inputs.p] as tf.TensorInfo[];
  const ds = h.be.makeOutput([...p.shape], 'float32'); // like p
  const [rows, t, n] = rowsOf(p);
  h.ex.softmax_bwd(h.at(dp), h.at(p), h.at(ds), rows, t, n, attrs?.scale as number, attrs?.causal ? 1 : 0);
  return ds;
}

/**
 * True when the current backend is wasm with the heap kernels and rows of n keys fit them (n a
 * multiple of 4), registering both kernels on first use.
 */
export function wasmSoftmaxAvailable(n: number): boolean {
  if (n % 4 !== 0 || !heapKernelsAvailable()) return false;
  registerWasmKernels({ [WASM_SOFTMAX]: forwardKernel, [WASM_SOFTMAX_GRAD]: backwardKernel });
  return true;
}

/** P = softmax(scale·x + mask) for float32 x (G, T, S), mask (T, S); causal: the mask hides every key past the diagonal. */
export function wasmScaledSoftmax(x: tf.Tensor3D, mask: tf.Tensor2D, scale: number, causal: boolean): tf.Tensor3D {
  return tf.engine().runKernel(WASM_SOFTMAX, { x, mask }, { scale, causal }) as tf.Tensor3D; // (G, T, S)
}

/** dS = scale · P ⊙ (dP − rowsum(dP ⊙ P)) for float32 dP, P (G, T, S); causal as the forward's. */
export function wasmScaledSoftmaxGrad(dp: tf.Tensor3D, p: tf.Tensor3D, scale: number, causal: boolean): tf.Tensor3D {
  return tf.engine().runKernel(WASM_SOFTMAX_GRAD, { dp, p }, { scale, causal }) as tf.Tensor3D; // (G, T, S)
}
