/**
 * Axis ticks at "nice" values: multiples of 1, 2 or 5 × 10^k, the steps a reader can add up
 * in their head.
 */

/** A linear axis: the data range widened to whole tick steps, and the ticks in it. */
export interface NiceScale {
  /** Lower end of the axis (a multiple of step, ≤ the data minimum). */
  readonly min: number;
  /** Upper end of the axis (a multiple of step, ≥ the data maximum). */
  readonly max: number;
  /** Distance between ticks. */
  readonly step: number;
  /** Tick values from min to max inclusive. */
  readonly ticks: readonly number[];
}

/** The smallest of 1, 2, 5 (times a power of ten) that is ≥ raw. */
function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  // Floating error can leave f a hair above 1, 2 or 5; the tolerance keeps e.g. 0.2 a "2".
  const m = f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10;
  return m * mag;
}

/** Rounds away floating noise such as 0.30000000000000004 at the step's precision. */
function clean(v: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(v.toFixed(Math.min(20, digits)));
}

/**
 * Ticks covering [lo, hi] with about `target` intervals: step = nice((hi − lo) / target),
 * axis = [⌊lo/step⌋·step, ⌈hi/step⌉·step]. A zero-width range is widened by ±1 unit of its
 * magnitude (or ±1 around 0) so a single point still gets an axis.
 */
export function niceScale(lo: number, hi: number, target = 5): NiceScale {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new Error(`niceScale: range must be finite numbers, got [${String(lo)}, ${String(hi)}].`);
  }
  if (!(Number.isInteger(target) && target >= 1)) throw new Error(`niceScale: target must be an integer >= 1, got ${String(target)}.`);
  let a = Math.min(lo, hi);
  let b = Math.max(lo, hi);
  if (a === b) {
    const pad = a === 0 ? 1 : Math.abs(a) * 0.1;
    a -= pad;
    b += pad;
  }
  const step = Number(niceStep((b - a) / target).toPrecision(12)); // 2e-4, not 1.9999999999999998e-4
  const min = clean(Math.floor(a / step + 1e-9) * step, step);
  const max = clean(Math.ceil(b / step - 1e-9) * step, step);
  const ticks: number[] = [];
  const n = Math.round((max - min) / step);
  for (let i = 0; i <= n; i++) ticks.push(clean(min + i * step, step));
  return { min, max, step, ticks };
}

/**
 * A tick label, in one format per axis (chosen by the step, so labels line up): exponent form
 * (3e-4, 2.5e-4) when the step is below 0.001, as for learning rates; thousands as 1k, 2.5k
 * when the step is ≥ 1000; otherwise plain digits at the step's precision (0.5, 2.25, 40).
 */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  if (step < 1e-3) {
    const digits = Math.max(0, Math.floor(Math.log10(Math.abs(v)) + 1e-9) - Math.floor(Math.log10(step) + 1e-9));
    return v.toExponential(Math.min(20, digits)).replace(/\.?0+e/, 'e'); // 1.0e-3 → 1e-3
  }
  if (step >= 1000) return `${clean(v / 1000, step / 1000)}k`;
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(20, digits));
}
