/**
 * AdamW's element loop in plain JS over typed arrays, with every operation rounded to float32
 * (a double operation on float32 inputs rounded once is the float32 operation): the same values,
 * bit for bit, as train/adamw.ts's tfjs ops and updateKernels.wat's adamw, which leaves the last
 * count mod 4 elements of a range to this loop. For a span of a flat buffer (data-parallel
 * workers) and for a weight on the wasm heap alike:
 *   g = grad·scale,  m' = β1·m + (1 − β1)·g,  v' = β2·v + (1 − β2)·g²,
 *   p' = p·keep − (m' / (√v' / √(1 − β2ᵗ) + ε)) · lr/(1 − β1ᵗ)
 */

/** One step's scalars (numbers; each is rounded to float32 before use, as tfjs rounds a number operand). */
export interface AdamWScalars {
  /** β1, the first moment's decay. */
  readonly beta1: number;
  /** β2, the second moment's decay. */
  readonly beta2: number;
  /** ε added to the corrected √v. */
  readonly eps: number;
  /** √(1 − β2ᵗ), the second moment's bias correction. */
  readonly sqrtBc2: number;
  /** lr / (1 − β1ᵗ), the step with the first moment's bias correction. */
  readonly stepSize: number;
  /** 1 − lr·λ for decayed weights, 1 for the others (p·1 is exact). */
  readonly keep: number;
  /** The factor every gradient is multiplied by first (the clip factor; 1: none). */
  readonly scale: number;
}

/** The arrays of one update: read p, m, v, g; write po, mo, vo (which may be p, m, v). */
export interface AdamWArrays {
  readonly p: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly g: Float32Array;
  readonly po: Float32Array;
  readonly mo: Float32Array;
  readonly vo: Float32Array;
}

const f32 = Math.fround;

/** Updates elements [lo, hi) of the arrays. */
export function adamwRange({ p, m, v, g, po, mo, vo }: AdamWArrays, lo: number, hi: number, s: AdamWScalars): void {
  const [b1, c1, b2, c2] = [f32(s.beta1), f32(1 - s.beta1), f32(s.beta2), f32(1 - s.beta2)];
  const [s2, eps, step, keep, scale] = [f32(s.sqrtBc2), f32(s.eps), f32(s.stepSize), f32(s.keep), f32(s.scale)];
  for (let i = lo; i < hi; i++) {
    const gi = f32(g[i] * scale);
    const mi = f32(f32(m[i] * b1) + f32(gi * c1));
    const vi = f32(f32(v[i] * b2) + f32(f32(gi * gi) * c2));
    const denom = f32(f32(f32(Math.sqrt(vi)) / s2) + eps);
    po[i] = f32(p[i] * keep) - f32(f32(mi / denom) * step);
    mo[i] = mi;
    vo[i] = vi;
  }
}
