import * as tf from '@tensorflow/tfjs-core';
import { heapCall, heapKernelsAvailable } from './heapKernels.js';

/**
 * Attention's softmax of scaled, masked scores and its backward pass as two wasm-backend kernels
 * over heapKernels.wat. With tfjs ops the forward is Mul, Add, Softmax and the backward Mul, Sum,
 * Sub, Mul, Mul, each a pass over the (B·nh, T, S) scores; here each is one pass per row, in double.
 */
export const WASM_SOFTMAX = 'TinyGptScaledSoftmax';
export const WASM_SOFTMAX_GRAD = 'TinyGptScaledSoftmaxGrad';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

function forwardKernel({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_SOFTMAX} runs only on tfjs-backend-wasm 4.x.`);
  const [x, mask] = [inputs.x, inputs.mask] as tf.TensorInfo[];
  const n = x.shape[x.shape.length - 1];
  const p = h.be.makeOutput([...x.shape], 'float32'); // like x
  h.ex.softmax_fwd(h.at(x), h.at(mask), h.at(p), tf.util.sizeFromShape(x.shape) / n, n, mask.shape[0], attrs?.scale as number);
  return p;
}

function backwardKernel({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_SOFTMAX_GRAD} runs only on tfjs-backend-wasm 4.x.`);
  const [dp, p] = [inputs.dp, inputs.p] as tf.TensorInfo[];
  const n = p.shape[p.shape.length - 1];
  const ds = h.be.makeOutput([...p.shape], 'float32'); // like p
  h.ex.softmax_bwd(h.at(dp), h.at(p), h.at(ds), tf.util.sizeFromShape(p.shape) / n, n, attrs?.scale as number);
  return ds;
}

/** True when the current backend is wasm with the heap kernels (registering both kernels on first use). */
export function wasmSoftmaxAvailable(): boolean {
  if (!heapKernelsAvailable()) return false;
  if (tf.getKernel(WASM_SOFTMAX, 'wasm') === undefined) {
    tf.registerKernel({ kernelName: WASM_SOFTMAX, backendName: 'wasm', kernelFunc: forwardKernel as tf.KernelFunc });
    tf.registerKernel({ kernelName: WASM_SOFTMAX_GRAD, backendName: 'wasm', kernelFunc: backwardKernel as tf.KernelFunc });
  }
  return true;
}

/** softmax(x·scale + mask) over the last axis; x (G, T, S) float32, mask (T, S) added to every group. */
export function wasmScaledSoftmax(x: tf.Tensor3D, mask: tf.Tensor2D, scale: number): tf.Tensor3D {
  return tf.engine().runKernel(WASM_SOFTMAX, { x, mask }, { scale }) as tf.Tensor3D; // (G, T, S)
}

/** dS = scale · P ⊙ (dP − rowsum(dP ⊙ P)), the gradient of {@link wasmScaledSoftmax} at P. */
export function wasmScaledSoftmaxGrad(dp: tf.Tensor3D, p: tf.Tensor3D, scale: number): tf.Tensor3D {
  return tf.engine().runKernel(WASM_SOFTMAX_GRAD, { dp, p }, { scale }) as tf.Tensor3D; // (G, T, S)
}
