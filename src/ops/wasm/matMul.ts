import * as tf from '@tensorflow/tfjs-core';
import { heapCall, heapKernelsAvailable, heapMatrix, heapProduct, heapProductFits, transposeOnHeap } from './heapKernels.js';
import { registerWasmKernels } from './module.js';

/**
 * op(A)·op(B) (+ bias) for 2-D float32 operands as a wasm-backend kernel over heapKernels.wat's
 * packed matmul, op the transpose where its flag is set.
 * tfjs-backend-wasm runs only a flag-free 2-D matMul on XNNPACK, and, called through tfjs,
 * XNNPACK creates an operator and repacks B on every call whose B is a new tensor, which in
 * training is every call (gradients, and weights the optimizer replaced). This kernel reads B
 * transposed in place (it packs B's column blocks itself), so a layer's input gradient dy·Wᵀ
 * needs no transpose first, and A transposed in place while K is small.
 */
export const WASM_MATMUL = 'TinyGptMatMul';

/**
 * Up to this K, Aᵀ is read in place: a 2-row tile touches one cache line of A per k step, and the
 * K lines stay in the first-level cache for the next 7 tiles. Beyond, they do not, and A is
 * transposed into scratch first (a weight gradient xᵀ·dy with K = 768 tokens ran ~1.5x slower in
 * place).
 */
const STRIDED_A_MAX_K = 128;

function kernelFunc({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo | tf.TensorInfo[] {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_MATMUL} runs only on tfjs-backend-wasm 4.x.`);
  const [a, b, bias] = [inputs.a, inputs.b, inputs.bias] as Array<tf.TensorInfo | undefined>;
  const [tA, tB] = [attrs?.transposeA === true, attrs?.transposeB === true];
  const [ar, ac] = (a as tf.TensorInfo).shape;
  const [br, bc] = (b as tf.TensorInfo).shape;
  const [m, k] = tA ? [ac, ar] : [ar, ac];
  const n = tB ? br : bc;
  const out = h.be.makeOutput([m, n], 'float32'); // (M, N)
  const sums = attrs?.columnSumsOfB === true ? h.be.makeOutput([n], 'float32') : undefined; // (N) Σ_k op(B)
  const copyA = tA && k > STRIDED_A_MAX_K;
  const scratch = copyA ? h.be.wasm._malloc(4 * m * k) : 0;
  if (copyA && scratch === 0) throw new Error(`${WASM_MATMUL}: the wasm heap could not allocate ${4 * m * k} bytes to transpose A.`);
  try {
    let opA = heapMatrix(h.at(a as tf.TensorInfo), ac, tA);
    if (copyA) {
      // Aᵀ (M, K) once into scratch (one pass, against M·K·N multiply-adds) so the tiles read rows.
      transposeOnHeap(h.be, h, opA.at, ar, ac, scratch);
      opA = heapMatrix(scratch, k);
    }
    heapProduct(h, opA, heapMatrix(h.at(b as tf.TensorInfo), bc, tB), h.at(out), m, k, n, bias ? h.at(bias) : undefined, 0, sums ? h.at(sums) : 0);
  } finally {
    if (copyA) h.be.wasm._free(scratch);
  }
  return sums ? [out, sums] : out;
}

/** How {@link wasmMatMul} reads its operands, and the bias it adds. */
export interface WasmMatMulOptions {
  /** Multiply by Aᵀ: A is stored (K, M). */
  readonly transposeA?: boolean;
  /** Multiply by Bᵀ: B is stored (N, K). */
  readonly transposeB?: boolean;
  /** Added to every row of the product (N), where the sums start. */
  readonly bias?: tf.Tensor1D;
}

/** Whether the kernel takes op(A)·op(B) (+ bias) with these operands, registering it on first use. */
function ready(a: tf.Tensor2D, b: tf.Tensor2D, o: WasmMatMulOptions): boolean {
  const [tA, tB] = [o.transposeA === true, o.transposeB === true];
  const [m, k] = tA ? [a.shape[1], a.shape[0]] : a.shape;
  const [kb, n] = tB ? [b.shape[1], b.shape[0]] : b.shape;
  const { bias } = o;
  const fits = k > 0 && kb === k && heapProductFits(m, n) && (bias === undefined || bias.size === n);
  const float = a.dtype === 'float32' && b.dtype === 'float32' && (bias === undefined || bias.dtype === 'float32');
  if (!fits || !float || !heapKernelsAvailable()) return false;
  registerWasmKernels({ [WASM_MATMUL]: kernelFunc });
  return true;
}

/** op(A)·op(B) (+ bias) (M, N); undefined (nothing run) off wasm, for other dtypes and where the sides do not fit. */
export function wasmMatMul(a: tf.Tensor2D, b: tf.Tensor2D, o: WasmMatMulOptions = {}): tf.Tensor2D | undefined {
  if (!ready(a, b, o)) return undefined;
  const inputs: tf.NamedTensorMap = o.bias ? { a, b, bias: o.bias } : { a, b };
  return tf.engine().runKernel(WASM_MATMUL, inputs, { transposeA: o.transposeA === true, transposeB: o.transposeB === true }) as tf.Tensor2D; // (M, N)
}

/**
 * [op(A)·B (M, N), Σ_rows B (N)] from one product: a weight gradient xᵀ·dy and its bias gradient,
 * the column sums of dy (in float32, from the kernel's packed copy of B); undefined where
 * {@link wasmMatMul} would be.
 */
export function wasmMatMulColumnSums(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean): [tf.Tensor2D, tf.Tensor1D] | undefined {
  if (!ready(a, b, { transposeA })) return undefined;
  return tf.engine().runKernel(WASM_MATMUL, { a, b }, { transposeA, columnSumsOfB: true }) as unknown as [tf.Tensor2D, tf.Tensor1D]; // (M, N), (N)
}
