/**
 * Row-wise operations of a decoder block on a flat float32 arena, for the tensor-free decoder.
 * Every buffer is an index into `a` holding `rows` consecutive rows. Sums run in double precision;
 * results are rounded to float32 on store, as tfjs's kernels round theirs.
 */
import type { VectorRef } from '../ops/engine.js';

/** LN(x) = γ ⊙ (x − μ)/√(σ² + ε) + β per row (σ² the biased variance), written to dst. */
export function layerNormRows(
  a: Float32Array,
  src: number,
  dst: number,
  rows: number,
  c: number,
  gamma: VectorRef,
  beta: VectorRef | undefined,
  eps: number,
): void {
  const g = gamma.array();
  const b = beta?.array();
  for (let r = 0; r < rows; r++) {
    const x = src + r * c;
    const y = dst + r * c;
    let mean = 0;
    for (let i = 0; i < c; i++) mean += a[x + i];
    mean /= c;
    let v = 0;
    for (let i = 0; i < c; i++) v += (a[x + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / c + eps);
    for (let i = 0; i < c; i++) {
      a[y + i] = (a[x + i] - mean) * inv * g[gamma.offset + i] + (b ? b[beta!.offset + i] : 0);
    }
  }
}

/** A norm's weights: LayerNorm (γ, optional β) or RMSNorm (γ). */
export interface NormRef {
  readonly kind: 'layernorm' | 'rmsnorm';
  readonly gamma: VectorRef;
  readonly beta: VectorRef | undefined;
}

/** RMSNorm y = γ ⊙ x / √(mean(x²) + ε) per row (Zhang & Sennrich 2019), written to dst. */
export function rmsNormRows(a: Float32Array, src: number, dst: number, rows: number, c: number, gamma: VectorRef, eps: number): void {
  const g = gamma.array();
  for (let r = 0; r < rows; r++) {
    const [x, y] = [src + r * c, dst + r * c];
    let ms = 0;
    for (let i = 0; i < c; i++) ms += a[x + i] * a[x + i];
    const inv = 1 / Math.sqrt(ms / c + eps);
    for (let i = 0; i < c; i++) a[y + i] = a[x + i] * inv * g[gamma.offset + i];
  }
}

/** The norm `n` per row of width c, src → dst (they may be the same). */
export function normRows(a: Float32Array, src: number, dst: number, rows: number, c: number, n: NormRef, eps: number): void {
  if (n.kind === 'rmsnorm') rmsNormRows(a, src, dst, rows, c, n.gamma, eps);
  else layerNormRows(a, src, dst, rows, c, n.gamma, n.beta, eps);
}

/**
 * Rotates the head vector a[at .. at + hd) to position p (RoPE, "rotate half": feature i pairs
 * with i + hd/2): x'_i = x_i cos − x_{i+hd/2} sin, x'_{i+hd/2} = x_{i+hd/2} cos + x_i sin.
 */
export function rotateHalf(a: Float32Array, at: number, hd: number, t: { cos: Float32Array; sin: Float32Array }, p: number): void {
  const half = hd / 2;
  for (let i = 0; i < half; i++) {
    const c = t.cos[p * half + i];
    const s = t.sin[p * half + i];
    const x1 = a[at + i];
    const x2 = a[at + half + i];
    a[at + i] = x1 * c - x2 * s;
    a[at + half + i] = x2 * c + x1 * s;
  }
}

/** Adds a bias vector (n) to each of `rows` rows of width n. */
export function addBiasRows(a: Float32Array, at: number, rows: number, bias: VectorRef): void {
  const b = bias.array();
  const n = bias.size;
  for (let r = 0; r < rows; r++) {
    const y = at + r * n;
    for (let j = 0; j < n; j++) a[y + j] += b[bias.offset + j];
  }
}

/** a[dst + i] += a[src + i] for i < n: the residual connection h = f(x) + x. */
export function addInto(a: Float32Array, dst: number, src: number, n: number): void {
  for (let i = 0; i < n; i++) a[dst + i] += a[src + i];
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GPT-2's tanh GeLU, ½x(1 + tanh(√(2/π)(x + 0.044715x³))), in place. */
export function geluTanhInPlace(a: Float32Array, from: number, n: number): void {
  for (let i = from; i < from + n; i++) {
    const x = a[i];
    a[i] = 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
  }
}

/** max(x, 0) in place. */
export function reluInPlace(a: Float32Array, from: number, n: number): void {
  for (let i = from; i < from + n; i++) if (!(a[i] > 0)) a[i] = a[i] < 0 ? 0 : a[i]; // NaN stays NaN
}

/** Swish x·σ(x) in place (SwiGLU's gate). */
export function siluInPlace(a: Float32Array, from: number, n: number): void {
  for (let i = from; i < from + n; i++) a[i] = a[i] / (1 + Math.exp(-a[i]));
}

/** a[dst + i] *= a[src + i]: the gate times the up projection in a gated FFN. */
export function mulInto(a: Float32Array, dst: number, src: number, n: number): void {
  for (let i = 0; i < n; i++) a[dst + i] *= a[src + i];
}
