import * as tf from '@tensorflow/tfjs-core';
import { heapCall, heapKernelsAvailable } from './heapKernels.js';

/**
 * Axis swaps (G, R, C, E) → (G, C, R, E) as a wasm-backend kernel over heapKernels.wat: 2-D and
 * batched matrix transposes (E = 1) move 4×4 tiles through SIMD registers, and the head
 * shuffles of attention ([0, 2, 1, 3] on (B, T, nh, hs)) copy runs of E floats. tfjs-backend-wasm's
 * Transpose walks the output element by element with index arithmetic, ~4x slower on the
 * (768, 512) transposes of a training step's weight gradients.
 *
 * The kernel's gradient is the inverse swap, registered with tfjs, so it can sit on the tape
 * like any op (the attention forward uses it) without a custom-gradient wrapper.
 */
export const WASM_TRANSPOSE = 'TinyGptTranspose';

interface SwapAttrs {
  readonly g: number;
  readonly r: number;
  readonly c: number;
  readonly e: number;
  readonly inShape: number[];
  readonly outShape: number[];
}

function kernelFunc({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  const h = heapCall(backend);
  if (h === undefined) throw new Error(`${WASM_TRANSPOSE} runs only on tfjs-backend-wasm 4.x.`);
  const x = inputs.x as tf.TensorInfo;
  const a = attrs as unknown as SwapAttrs;
  const out = h.be.makeOutput([...a.outShape], x.dtype);
  h.ex.transpose(h.at(x), h.at(out), a.g, a.r, a.c, a.e);
  return out;
}

let registered = false;

function available(): boolean {
  if (!heapKernelsAvailable()) return false;
  if (!registered) {
    tf.registerKernel({ kernelName: WASM_TRANSPOSE, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
    tf.registerGradient({
      kernelName: WASM_TRANSPOSE,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], _saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
        const a = attrs as unknown as SwapAttrs;
        const back = { g: a.g, r: a.c, c: a.r, e: a.e, inShape: a.outShape, outShape: a.inShape };
        return { x: () => tf.engine().runKernel(WASM_TRANSPOSE, { x: dy as tf.Tensor }, back as unknown as tf.NamedAttrMap) as tf.Tensor };
      },
    });
    registered = true;
  }
  return true;
}

/**
 * x viewed as (g, r, c, e) with its middle axes swapped, shaped outShape; undefined (nothing run)
 * off wasm, for empty tensors, for dtypes that are not 4 bytes a value, and for matrices (e = 1)
 * whose sides are not multiples of 4 (the kernel would copy them a float at a time): callers then
 * use tf.transpose.
 */
export function wasmSwapAxes(x: tf.Tensor, g: number, r: number, c: number, e: number, outShape: number[]): tf.Tensor | undefined {
  const tiled = e > 1 || (r % 4 === 0 && c % 4 === 0);
  if (x.size === 0 || !tiled || !(x.dtype === 'float32' || x.dtype === 'int32') || !available()) return undefined;
  const attrs = { g, r, c, e, inShape: [...x.shape], outShape };
  return tf.engine().runKernel(WASM_TRANSPOSE, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
