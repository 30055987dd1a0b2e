import { describe, expect, it } from 'vitest';
import { createRng } from '../src/util/rng.js';

describe('createRng', () => {
  it('is deterministic for a seed and resumable from its state', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = [a.next(), a.normal(), a.nextInt(10)];
    expect([b.next(), b.normal(), b.nextInt(10)]).toEqual(xs);
    const snap = a.state();
    const rest = [a.next(), a.normal(), a.normal(), a.nextSeed()];
    const c = createRng(0, snap);
    expect([c.next(), c.normal(), c.normal(), c.nextSeed()]).toEqual(rest);
  });

  it('draws normals with mean ~0 and variance ~1', () => {
    const r = createRng(7);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    // standard error of the mean is 1/sqrt(20000) ≈ 0.007; of the variance ≈ sqrt(2/20000) ≈ 0.01
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });
});
