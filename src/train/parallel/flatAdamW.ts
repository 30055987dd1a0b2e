import type { LayoutEntry } from './layout.js';

/**
 * AdamW over a span of one flat buffer, for data-parallel workers that each update their own
 * slice of the weights in shared memory. The update is the tfjs AdamW's (train/adamw.ts), so N
 * workers stay within rounding of one thread:
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

/**
 * Updates elements [start, end) of the flat buffers. `entries` give each element's weight (for
 * its decay flag); entries with `used[i] === 0` (no weight of the loss) are left untouched, as
 * AdamW.step leaves a parameter without a gradient.
 */
export function adamwSpan(
  buf: FlatBuffers,
  entries: readonly LayoutEntry[],
  used: ArrayLike<number>,
  start: number,
  end: number,
  s: FlatStep,
): void {
  const stepSize = s.lr / (1 - s.beta1 ** s.t);
  const sqrtBc2 = Math.sqrt(1 - s.beta2 ** s.t);
  for (let e = 0; e < entries.length; e++) {
    const { offset, size, shape } = entries[e];
    const lo = Math.max(start, offset);
    const hi = Math.min(end, offset + size);
    if (lo >= hi || used[e] === 0) continue;
    const keep = shape.length >= 2 ? 1 - s.lr * s.weightDecay : 1;
    adamwRange(buf, lo, hi, s.beta1, s.beta2, s.eps, stepSize, sqrtBc2, keep, s.gradScale);
  }
}

/**
 * The element loop, kept free of objects so that V8 compiles it to straight float code. Each
 * value is computed in float64 and rounded once when stored, which is within an ulp of the
 * op-by-op float32 of the tfjs AdamW (test/flat-adamw.test.ts checks 1e-6 over three steps).
 */
function adamwRange(
  { params, m, v, grads }: FlatBuffers,
  lo: number,
  hi: number,
  b1: number,
  b2: number,
  eps: number,
  stepSize: number,
  sqrtBc2: number,
  keep: number,
  scale: number,
): void {
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  for (let i = lo; i < hi; i++) {
    const g = grads[i] * scale;
    const mi = m[i] * b1 + g * c1;
    const vi = v[i] * b2 + g * g * c2;
    m[i] = mi;
    v[i] = vi;
    params[i] = params[i] * keep - (mi / (Math.sqrt(vi) / sqrtBc2 + eps)) * stepSize;
  }
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
