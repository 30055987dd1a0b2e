import type * as tf from '@tensorflow/tfjs-core';
import { transposeInto } from '../util/transpose.js';

/**
 * Where the tensor-free decoder keeps its numbers and how it multiplies matrices.
 *
 * A one-token generation step of a small GPT is a few hundred thousand multiply-adds, but through
 * tfjs it is ~190 kernels of ~30 µs bookkeeping each. The decoder instead works on one flat
 * float32 arena with plain loops, and hands only the matrix products to an engine: XNNPACK called
 * straight from the wasm heap (xnnpackEngine.ts), or JS loops on every other backend.
 */

/**
 * A weight held outside tfjs (a checkpoint read for inference only): its canonical shape
 * (src/config/names.ts; (in, out) for a matrix) and its values as stored.
 */
export interface HostTensor {
  readonly shape: readonly number[];
  /** 'BF16': bfloat16 bits in a Uint16Array (kept as they are by the DotEngine); 'F32': float32. */
  readonly dtype: 'F32' | 'BF16';
  /** A matrix stored as the transpose of `shape`, (out, in), the way Hugging Face stores a Linear weight. */
  readonly outMajor: boolean;
  /** Reads the values (called once per engine that takes the weight; the caller may drop them after). */
  read(): Uint16Array | Float32Array;
}

/** What an engine takes a weight from: a tfjs tensor or a {@link HostTensor}. */
export type WeightInput = tf.Tensor | HostTensor;

/** Whether `t` is a tfjs tensor (else a host tensor). */
export function isTensor(t: WeightInput): t is tf.Tensor {
  return 'dataId' in t;
}

/** A weight's values as float32, in the order stored (bfloat16 widened exactly). */
export function floatsOf(t: WeightInput): Float32Array {
  if (isTensor(t)) return t.dataSync() as Float32Array;
  const data = t.read();
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < data.length; i++) bits[i] = data[i] << 16; // bfloat16 is a float32's upper half
  return out;
}

/**
 * W = t (k, n), or W = tᵀ when `transposed`, as a float32 array in the layout asked for: 'kn'
 * row-major W, or 'nk' row-major Wᵀ (each output's weights contiguous). Copies only when it must.
 */
export function matrixFloats(
  t: WeightInput,
  transposed: boolean,
  layout: 'kn' | 'nk',
): { k: number; n: number; data: Float32Array } {
  const [r, c] = t.shape;
  const [k, n] = transposed ? [c, r] : [r, c];
  const data = floatsOf(t);
  // The stored array is the canonical (r, c), or its transpose for an out-major host tensor.
  const storedIsW = (isTensor(t) || !t.outMajor) !== transposed;
  if (storedIsW === (layout === 'kn')) return { k, n, data };
  const out = new Float32Array(data.length);
  if (storedIsW) transposeInto(data, 0, k, n, out, 0);
  else transposeInto(data, 0, n, k, out, 0);
  return { k, n, data: out };
}

/** out (rows, n) = x (rows, k) · B in the arena `a`, for a transient B (k, n): plain loops. */
export function productLoops(a: Float32Array, x: number, rows: number, k: number, b: number, n: number, out: number): void {
  for (let r = 0; r < rows; r++) {
    const or = out + r * n;
    a.fill(0, or, or + n);
    for (let i = 0; i < k; i++) {
      const xi = a[x + r * k + i];
      const bi = b + i * n;
      for (let j = 0; j < n; j++) a[or + j] += xi * a[bi + j];
    }
  }
}

/** A weight matrix W (k, n) the engine can multiply by: y (rows, n) = x (rows, k)·W. */
export interface MatrixRef {
  readonly k: number;
  readonly n: number;
}

/** A float vector read in place: elements array()[offset .. offset + size). */
export interface VectorRef {
  /** The array holding it; call again after each matMul, since a wasm heap may have grown. */
  array(): Float32Array;
  readonly offset: number;
  readonly size: number;
}

export interface MatMulEngine {
  /** Whether a few large products beat scalar JS loops (true for XNNPACK): attention then uses them. */
  readonly fastProducts: boolean;
  /** The arena: every activation buffer lives in it. Re-read it after each {@link matMul}. */
  heap(): Float32Array;
  /** Reserves `floats` zeroed floats in the arena (called once) and returns the index of the first. */
  reserve(floats: number): number;
  /** A matrix view of a 2-D weight: W = t (k, n), or W = tᵀ when t is (n, k) and `transposed`. */
  matrix(t: WeightInput, transposed: boolean): MatrixRef;
  /** Any float weight as a flat float32 vector. */
  vector(t: WeightInput): VectorRef;
  /** heap[out + i] = scale · W[i, j] for i < k: column j (the embedding of token j when W = W_teᵀ). */
  column(w: MatrixRef, j: number, out: number, scale: number): void;
  /** heap[out .. out + rows·n) = heap[x .. x + rows·k) · W. */
  matMul(x: number, rows: number, w: MatrixRef, out: number): void;
  /** out (rows, n) = x (rows, k) · B for a transient B (k, n) in the arena (e.g. keys, values). */
  product(x: number, rows: number, k: number, b: number, n: number, out: number): void;
  /** False when the memory it reads is no longer there (e.g. the tfjs backend was switched). */
  isCurrent(): boolean;
  /** Frees what the engine allocated (not the tensors it reads). */
  dispose(): void;
}

/** A vector held in its own JS array. */
export function arrayVector(data: Float32Array): VectorRef {
  return { array: () => data, offset: 0, size: data.length };
}

/** W stored as Wᵀ (n, k), so each output is one contiguous dot product. */
interface JsMatrix extends MatrixRef {
  readonly t: Float32Array;
}

/**
 * The portable engine: weights copied out of the tensors once, products as JS loops. Used on the
 * cpu backend (where it beats per-op tfjs) and wherever XNNPACK cannot be reached.
 */
export class JsEngine implements MatMulEngine {
  readonly fastProducts = false;
  private arena = new Float32Array(0);

  heap(): Float32Array {
    return this.arena;
  }

  reserve(floats: number): number {
    this.arena = new Float32Array(floats);
    return 0;
  }

  matrix(t: WeightInput, transposed: boolean): MatrixRef {
    const { k, n, data } = matrixFloats(t, transposed, 'nk');
    // A copy: a tensor's dataSync array may be its backend's own storage.
    const m: JsMatrix = { k, n, t: isTensor(t) ? Float32Array.from(data) : data };
    return m;
  }

  vector(t: WeightInput): VectorRef {
    return arrayVector(Float32Array.from(floatsOf(t)));
  }

  column(w: MatrixRef, j: number, out: number, scale: number): void {
    const { k, t } = w as JsMatrix;
    const s = Math.fround(scale);
    for (let i = 0; i < k; i++) this.arena[out + i] = Math.fround(t[j * k + i] * s);
  }

  matMul(x: number, rows: number, w: MatrixRef, out: number): void {
    const { k, n, t } = w as JsMatrix;
    const a = this.arena;
    for (let r = 0; r < rows; r++) {
      const xr = x + r * k;
      const or = out + r * n;
      for (let j = 0; j < n; j++) {
        const wj = j * k;
        // Four partial sums break the add chain's latency (~1.5x over one accumulator).
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let i = 0;
        for (; i + 3 < k; i += 4) {
          s0 += a[xr + i] * t[wj + i];
          s1 += a[xr + i + 1] * t[wj + i + 1];
          s2 += a[xr + i + 2] * t[wj + i + 2];
          s3 += a[xr + i + 3] * t[wj + i + 3];
        }
        for (; i < k; i++) s0 += a[xr + i] * t[wj + i];
        a[or + j] = s0 + s1 + s2 + s3;
      }
    }
  }

  product(x: number, rows: number, k: number, b: number, n: number, out: number): void {
    productLoops(this.arena, x, rows, k, b, n, out);
  }

  isCurrent(): boolean {
    return true; // it reads only its own copies
  }

  dispose(): void {
    this.arena = new Float32Array(0);
  }
}
