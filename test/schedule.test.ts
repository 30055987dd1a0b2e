import { describe, expect, it } from 'vitest';
import { getLr } from '../src/train/schedule.js';

// lr 1, floor 0.1, 4 warmup steps, cosine over steps 4..12: round numbers to check by hand.
const S = { lr: 1, minLr: 0.1, warmupIters: 4, lrDecayIters: 12 } as const;

describe('getLr', () => {
  it('warms up linearly as lr·(step+1)/(warmupIters+1)', () => {
    expect(getLr(0, S)).toBeCloseTo(0.2, 12); // 1·1/5
    expect(getLr(1, S)).toBeCloseTo(0.4, 12); // 1·2/5
    expect(getLr(3, S)).toBeCloseTo(0.8, 12); // 1·4/5
  });

  it('decays along a half cosine from lr to minLr', () => {
    // r = 0 → ½(1 + cos 0) = 1 → 0.1 + 1·0.9 = 1
    expect(getLr(4, S)).toBeCloseTo(1, 12);
    // r = 2/8 = 0.25 → ½(1 + cos(π/4)) = ½(1 + 0.7071068) = 0.8535534 → 0.1 + 0.9·0.8535534 = 0.8681981
    expect(getLr(6, S)).toBeCloseTo(0.8681981, 6);
    // r = 4/8 = 0.5 → ½(1 + cos(π/2)) = 0.5 → 0.1 + 0.45 = 0.55
    expect(getLr(8, S)).toBeCloseTo(0.55, 12);
    // r = 6/8 = 0.75 → ½(1 − 0.7071068) = 0.1464466 → 0.1 + 0.9·0.1464466 = 0.2318019
    expect(getLr(10, S)).toBeCloseTo(0.2318019, 6);
  });

  it('stays at minLr from lrDecayIters on', () => {
    expect(getLr(12, S)).toBeCloseTo(0.1, 12);
    expect(getLr(13, S)).toBe(0.1);
    expect(getLr(10_000, S)).toBe(0.1);
  });

  it("matches nanoGPT's Shakespeare recipe at the warmup edge", () => {
    const r = { lr: 1e-3, minLr: 1e-4, warmupIters: 100, lrDecayIters: 2000 };
    expect(getLr(99, r)).toBeCloseTo(1e-3 * (100 / 101), 15); // 9.90099e-4, just under the peak
    expect(getLr(100, r)).toBeCloseTo(1e-3, 15);
    // middle of the decay, r = 950/1900 = 0.5 → 1e-4 + 0.5·9e-4 = 5.5e-4
    expect(getLr(1050, r)).toBeCloseTo(5.5e-4, 15);
  });

  it('handles no warmup, and warmup ending where the decay ends, without NaN', () => {
    expect(getLr(0, { ...S, warmupIters: 0 })).toBe(1); // cosine at r = 0
    const flat = { lr: 1, minLr: 0.1, warmupIters: 5, lrDecayIters: 5 };
    expect(getLr(4, flat)).toBeCloseTo(5 / 6, 12);
    expect(getLr(5, flat)).toBe(0.1);
  });

  it('rejects a negative or fractional step', () => {
    expect(() => getLr(-1, S)).toThrow(/step must be an integer >= 0, got -1/);
    expect(() => getLr(1.5, S)).toThrow(/step must be an integer/);
  });
});
