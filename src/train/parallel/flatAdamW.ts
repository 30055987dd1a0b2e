import { adamwRange } from '../../ops/adamwRange.js';
import { adamwOnMemory } from '../../ops/wasm/heapKernels.js';
import type { UpdateExports } from '../../ops/wasm/kernelExports.js';
import type { LayoutEntry } from './layout.js';

/**
 * AdamW over a span of one flat buffer, for data-parallel workers that each update their own
 * slice of the weights in shared memory. The update is the tfjs AdamW's (train/adamw.ts), its
 * float32 operations one for one, so N workers update as one thread does:
 *   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
 *   p ← p·(1 − lr·λ) − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)      (decay on rank ≥ 2 only)
 */

/** AdamW hyperparameters and this step's t and lr. */
export interface FlatStep {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Step count after this update (1 for the first), for the bias corrections. */
  readonly t: number;
  /** Clip factor min(1, maxNorm / (‖g‖ + 1e-6)) applied to every gradient (1: none). */
  readonly gradScale: number;
}

/** The flat buffers one update reads and writes (all of the same length). */
export interface FlatBuffers {
  readonly params: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly grads: Float32Array;
}

/** The wasm kernels on the flat block and the byte offsets of its parts (layout.ts's FlatViews.at). */
export interface FlatKernels {
  readonly ex: UpdateExports;
  readonly at: { readonly params: number; readonly m: number; readonly v: number; readonly grads: number };
}

/**
 * Updates elements [start, end) of the flat buffers. `entries` give each element's weight (for
 * its decay flag); entries with `used[i] === 0` (no weight of the loss) are left untouched, as
 * AdamW.step leaves a parameter without a gradient. With `kernels` (the buffers are those parts of
 * a wasm memory) heapKernels.ts's adamwOnMemory runs each range in SIMD; without,
 * ops/adamwRange.ts runs all of it. Either gives tfjs AdamW's float32 values.
 */
export function adamwSpan(
  buf: FlatBuffers,
  entries: readonly LayoutEntry[],
  used: ArrayLike<number>,
  start: number,
  end: number,
  s: FlatStep,
  kernels?: FlatKernels,
): void {
  const stepSize = s.lr / (1 - s.beta1 ** s.t);
  const sqrtBc2 = Math.sqrt(1 - s.beta2 ** s.t);
  const arrays = { p: buf.params, m: buf.m, v: buf.v, g: buf.grads, po: buf.params, mo: buf.m, vo: buf.v };
  const at = kernels?.at;
  const offsets = at && { p: at.params, m: at.m, v: at.v, g: at.grads, po: at.params, mo: at.m, vo: at.v };
  for (let e = 0; e < entries.length; e++) {
    const { offset, size, shape } = entries[e];
    const lo = Math.max(start, offset);
    const hi = Math.min(end, offset + size);
    if (lo >= hi || used[e] === 0) continue;
    const keep = shape.length >= 2 ? 1 - s.lr * s.weightDecay : 1;
    const sc = { beta1: s.beta1, beta2: s.beta2, eps: s.eps, sqrtBc2, stepSize, keep, scale: s.gradScale };
    if (kernels === undefined || offsets === undefined) adamwRange(arrays, lo, hi, sc);
    else adamwOnMemory(kernels.ex, offsets, () => arrays, lo, hi, sc);
  }
}

/**
 * Slot 0 ← Σ of the `slots` gradient slots over [start, end), in slot order with each sum
 * rounded to float32 (as adding them one by one), and returns Σ g² of the sum in float64: with
 * `kernels`, updateKernels.wat's reduce up to a multiple of 4 elements and this loop after it.
 */
export function reduceSpan(slots: readonly Float32Array[], start: number, end: number, total: number, kernels?: FlatKernels): number {
  let from = start;
  let sq = 0;
  if (kernels !== undefined) {
    sq = kernels.ex.reduce(kernels.at.grads + 4 * start, end - start, slots.length, 4 * total);
    from = end - ((end - start) % 4);
  }
  const sum = slots[0];
  for (let s = 1; s < slots.length; s++) {
    const src = slots[s];
    for (let i = from; i < end; i++) sum[i] += src[i];
  }
  return sq + sumSquares(sum, from, end);
}

/** Σ g² over [start, end) in float64 (a worker's part of the global gradient norm). */
export function sumSquares(grads: Float32Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += grads[i] * grads[i];
  return s;
}

/** clip_grad_norm_'s factor: min(1, maxNorm / (‖g‖ + 1e-6)), or 1 when maxNorm is 0 (no clipping). */
export function clipFactor(norm: number, maxNorm: number): number {
  return maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
}
