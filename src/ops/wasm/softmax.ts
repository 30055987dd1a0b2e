import * as tf from '@tensorflow/tfjs-core';
import { heapCall, heapKernelsAvailable } from './heapKernels.js';

/**
 * The backward pass of attention's softmax as a wasm-backend kernel over heapKernels.wat: with
 * tfjs ops it is Mul, Sum, Sub, Mul, Mul, each a pass over the (B·nh, T, S) scores; here one pass
 * per row, its row sum in double. (The forward stays tfjs's: its Softmax is XNNPACK's vectorised
 * one, faster than a scalar exp here.)
 */
export const WASM_SOFTMAX_GRAD = 'TinyGptScaledSoftmaxGrad';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

function backwardKernel({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_SOFTMAX_GRAD} runs only on tfjs-backend-wasm 4.x.`);
  const [dp, p] = [inputs.dp, inputs.p] as tf.TensorInfo[];
  const n = p.shape[p.shape.length - 1];
  const ds = h.be.makeOutput([...p.shape], 'float32'); // like p
  h.ex.softmax_bwd(h.at(dp), h.at(p), h.at(ds), tf.util.sizeFromShape(p.shape) / n, n, attrs?.scale as number);
  return ds;
}

/** True when the current backend is wasm with the heap kernels (registering the kernel on first use). */
export function wasmSoftmaxGradAvailable(): boolean {
  if (!heapKernelsAvailable()) return false;
  if (tf.getKernel(WASM_SOFTMAX_GRAD, 'wasm') === undefined) {
    tf.registerKernel({ kernelName: WASM_SOFTMAX_GRAD, backendName: 'wasm', kernelFunc: backwardKernel as tf.KernelFunc });
  }
  return true;
}

/** dS = scale · P ⊙ (dP − rowsum(dP ⊙ P)) for float32 dP, P (G, T, S). */
export function wasmScaledSoftmaxGrad(dp: tf.Tensor3D, p: tf.Tensor3D, scale: number): tf.Tensor3D {
  return tf.engine().runKernel(WASM_SOFTMAX_GRAD, { dp, p }, { scale }) as tf.Tensor3D; // (G, T, S)
}
