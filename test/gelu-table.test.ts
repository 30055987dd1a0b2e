import { describe, expect, it } from 'vitest';
import { geluAndDerivative, geluInPlace } from '../src/ops/geluTable.js';

// An independent double-precision Φ: the Taylor series Φ(x) = ½ + φ(x)·Σₙ x^(2n+1)/(1·3·…·(2n+1))
// for x ≥ −3 (all terms of one sign, so no cancellation beyond ½'s), and below −3 the Mills ratio
// Φ(x) = φ(x)/R with R = a + 1/(a + 2/(a + 3/(a + …))), a = −x, a continued fraction that converges
// fast in the tail, where 1 − (series) would lose the digits float32 needs.
const density = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
function normalCdf(x: number): number {
  if (x < -3) {
    let r = -x;
    for (let k = 200; k >= 1; k--) r = -x + k / r;
    return density(x) / r;
  }
  let term = x;
  let sum = x;
  for (let n = 1; Math.abs(term) > Math.abs(sum) * 1e-18; n++) {
    term *= (x * x) / (2 * n + 1);
    sum += term;
  }
  return 0.5 + density(x) * sum;
}

/** The spacing of float32 values at v (2^(e − 23) for |v| in [2^e, 2^(e+1))). */
const ulp = (v: number): number => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);

describe('geluTable (float32 cubics on a 1/64 grid)', () => {
  it('gives x·Φ(x) within 3 float32 ulps on [−5, 8] and Φ + x·φ within 2e-7', () => {
    // 160,001 points over [−5, 8], off the grid nodes (the sine nudges them between nodes).
    const n = 160_001;
    const xs = Float32Array.from({ length: n }, (_, i) => -5 + (13 * i) / (n - 1) + 1e-4 * Math.sin(i));
    const [y, dy] = [new Float32Array(n), new Float32Array(n)];
    geluAndDerivative(xs, y, dy);
    let [worstY, worstDy] = [0, 0];
    for (let i = 0; i < n; i++) {
      const x = xs[i];
      if (x === 0) continue;
      const exact = x * normalCdf(x);
      worstY = Math.max(worstY, Math.abs(y[i] - exact) / ulp(exact));
      worstDy = Math.max(worstDy, Math.abs(dy[i] - (normalCdf(x) + x * density(x))));
    }
    // Measured: 2.6 ulps (near x = −4.9, where Φ ≈ 5e-7) and 1.2e-7 (one ulp of values near 1).
    expect(worstY).toBeLessThan(3);
    expect(worstY).toBeGreaterThan(0.5); // the reference really is finer than float32
    expect(worstDy).toBeLessThan(2e-7);
  });

  it('is exact at the ends: x beyond 8 passes through with slope 1, x below −8 gives −0 with slope 0', () => {
    const xs = Float32Array.from([8, 9.5, 1e30, Infinity, -8, -9.5, -1e30, -Infinity, Number.NaN]);
    const [y, dy] = [new Float32Array(xs.length), new Float32Array(xs.length)];
    geluAndDerivative(xs, y, dy);
    expect(Array.from(y.slice(0, 4))).toEqual([8, 9.5, Math.fround(1e30), Infinity]);
    expect(Array.from(dy.slice(0, 4))).toEqual([1, 1, 1, 1]);
    // x·0 for negative x is −0 (Object.is tells −0 from 0); −∞·0 is NaN, as x·Φ(x) in float32.
    expect(Array.from(y.slice(4, 7)).every((v) => Object.is(v, -0))).toBe(true);
    expect(Number.isNaN(y[7])).toBe(true);
    expect(Array.from(dy.slice(4, 8))).toEqual([0, 0, 0, 0]);
    expect(Number.isNaN(y[8]) && Number.isNaN(dy[8])).toBe(true);
  });

  it('geluInPlace writes the same values as geluAndDerivative', () => {
    const xs = Float32Array.from({ length: 1001 }, (_, i) => -10 + i / 50);
    const [y, dy] = [new Float32Array(xs.length), new Float32Array(xs.length)];
    geluAndDerivative(xs, y, dy);
    const a = Float32Array.from([7, ...xs, 7]);
    geluInPlace(a, 1, xs.length);
    expect(Array.from(a.subarray(1, -1))).toEqual(Array.from(y));
    expect([a[0], a[a.length - 1]]).toEqual([7, 7]); // outside [from, from + n) untouched
  });
});
