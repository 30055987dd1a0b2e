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
  /** A matrix view of a 2-D float32 tensor: W = t (k, n), or W = tᵀ when t is (n, k) and `transposed`. */
  matrix(t: tf.Tensor2D, transposed: boolean): MatrixRef;
  /** W = [t_1 | t_2 | ...], the (k, n_i) tensors side by side (separate q, k, v projections as one). */
  columns(parts: readonly tf.Tensor2D[]): MatrixRef;
  /** Any float32 tensor as a flat vector. */
  vector(t: tf.Tensor): VectorRef;
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

/** The arrays one after another. */
export function concatFloats(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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

  matrix(t: tf.Tensor2D, transposed: boolean): MatrixRef {
    const src = t.dataSync() as Float32Array;
    const [r, c] = t.shape;
    if (transposed) {
      const m: JsMatrix = { k: c, n: r, t: Float32Array.from(src) };
      return m;
    }
    const wt = new Float32Array(r * c);
    transposeInto(src, 0, r, c, wt, 0);
    const m: JsMatrix = { k: r, n: c, t: wt };
    return m;
  }

  columns(parts: readonly tf.Tensor2D[]): MatrixRef {
    // Wᵀ of the side-by-side matrix is the parts' transposes stacked.
    const ts = parts.map((p) => (this.matrix(p, false) as JsMatrix).t);
    const m: JsMatrix = { k: parts[0].shape[0], n: parts.reduce((s, p) => s + p.shape[1], 0), t: concatFloats(ts) };
    return m;
  }

  vector(t: tf.Tensor): VectorRef {
    return arrayVector(Float32Array.from(t.dataSync() as Float32Array));
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
    const a = this.arena;
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

  isCurrent(): boolean {
    return true; // it reads only its own copies
  }

  dispose(): void {
    this.arena = new Float32Array(0);
  }
}
