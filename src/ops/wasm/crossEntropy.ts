import * as tf from '@tensorflow/tfjs-core';
import { heapCall, heapKernelsAvailable } from './heapKernels.js';
import { isWasmHeapBackend, registerWasmKernels } from './module.js';

/**
 * Mean cross-entropy and its gradient as two wasm-backend kernels. Through tfjs ops the loss is
 * OneHot, Cast, Max, Sub, Exp, Sum, Log, Sub, Mul, Sum, Mean, Neg and the gradient Exp, Sub, Div,
 * Mul (tfjs-backend-wasm's Exp is scalar: ~11 ns an element); here softmaxKernels.wat's
 * softmax_rows writes p = softmax(z) and each row's max m and Σ e^(z − m) in one SIMD pass, and
 * the loss is summed from those in double:
 *   L = (1/N) Σ_n (m_n + ln s_n − z_n[y_n]),   ∂L/∂z_n = (p_n − onehot(y_n)) · dL/N.
 * A target outside [0, V) counts as tfjs's oneHot makes it, an all-zero row: the row adds 0 to L,
 * so its gradient is 0.
 */
export const WASM_CROSS_ENTROPY = 'TinyGptCrossEntropy';
export const WASM_CROSS_ENTROPY_GRAD = 'TinyGptCrossEntropyGrad';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown };

function forwardKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const h = heapCall(backend);
  if (h === undefined || !isWasmHeapBackend(backend)) throw new Error(`${WASM_CROSS_ENTROPY} runs only on tfjs-backend-wasm 4.x.`);
  const [z, y] = [inputs.logits, inputs.targets] as tf.TensorInfo[];
  const [n, v] = z.shape;
  const p = h.be.makeOutput([n, v], 'float32'); // (N, V)
  const loss = h.be.makeOutput([], 'float32'); // ()
  const stats = h.be.wasm._malloc(8 * n); // (N, 2): m, s
  try {
    h.ex.softmax_rows(h.at(z), h.at(p), stats, n, v);
    const st = new Float32Array(h.be.wasm.HEAPF32.buffer, stats, 2 * n);
    const zs = backend.typedArrayFromHeap(z) as Float32Array;
    const ys = backend.typedArrayFromHeap(y) as Int32Array;
    let sum = 0;
    for (let r = 0; r < n; r++) {
      const t = ys[r];
      if (t >= 0 && t < v) sum += st[2 * r] + Math.log(st[2 * r + 1]) - zs[r * v + t];
    }
    (backend.typedArrayFromHeap(loss) as Float32Array)[0] = sum / n;
  } finally {
    h.be.wasm._free(stats);
  }
  return [loss, p];
}

function backwardKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const h = heapCall(backend);
  if (h === undefined || !isWasmHeapBackend(backend)) throw new Error(`${WASM_CROSS_ENTROPY_GRAD} runs only on tfjs-backend-wasm 4.x.`);
  const [p, y, dy] = [inputs.p, inputs.targets, inputs.dy] as tf.TensorInfo[];
  const [n, v] = p.shape;
  const dz = h.be.makeOutput([n, v], 'float32'); // (N, V)
  const ps = backend.typedArrayFromHeap(p) as Float32Array;
  const ys = backend.typedArrayFromHeap(y) as Int32Array;
  const out = backend.typedArrayFromHeap(dz) as Float32Array;
  // dL/N rounded to float32, as tf.div(dy, n) is; then (p − onehot)·that, each product rounded.
  const c = Math.fround((backend.typedArrayFromHeap(dy) as Float32Array)[0] / n);
  for (let r = 0; r < n; r++) {
    const t = ys[r];
    const at = r * v;
    if (t < 0 || t >= v) {
      out.fill(0, at, at + v);
      continue;
    }
    for (let j = 0; j < v; j++) out[at + j] = ps[at + j] * c;
    out[at + t] = Math.fround(ps[at + t] - 1) * c;
  }
  return dz;
}

/** True when the current backend is wasm with the heap kernels and rows have v >= 4 logits (registering both kernels on first use). */
export function wasmCrossEntropyAvailable(v: number): boolean {
  if (v < 4 || !heapKernelsAvailable()) return false;
  registerWasmKernels({ [WASM_CROSS_ENTROPY]: forwardKernel, [WASM_CROSS_ENTROPY_GRAD]: backwardKernel });
  return true;
}

/** [L, p] for float32 logits (N, V) and int32 targets (N). */
export function wasmCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): [tf.Scalar, tf.Tensor2D] {
  return tf.engine().runKernel(WASM_CROSS_ENTROPY, { logits, targets }) as [tf.Scalar, tf.Tensor2D]; // (), (N, V)
}

/** ∂L/∂logits (N, V) from the forward's p (N, V), the targets (N) and dL (). */
export function wasmCrossEntropyGrad(p: tf.Tensor2D, targets: tf.Tensor1D, dy: tf.Scalar): tf.Tensor2D {
  return tf.engine().runKernel(WASM_CROSS_ENTROPY_GRAD, { p, targets, dy }) as tf.Tensor2D; // (N, V)
}
