import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AdamW } from '../src/train/adamw.js';
import { adamwSpan, clipFactor, sumSquares } from '../src/train/parallel/flatAdamW.js';
import { flatLayout } from '../src/train/parallel/layout.js';
import { createRng } from '../src/util/rng.js';

const HP = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

describe('adamwSpan (the workers\' AdamW over one flat buffer)', () => {
  it('works one element by hand: step 1 moves a weight by lr·sign(g) after decay', () => {
    // p = 2 (rank 2, decayed), g = 0.5, lr = 0.1, λ = 0.1, t = 1:
    //   m = 0.1·0.5 = 0.05, v = 0.05·0.25 = 0.0125, √v/√(1−0.95) = 0.1118/0.2236 = 0.5
    //   update = (0.1/0.1)·0.05/(0.5 + 1e-8) = 0.1;  p = 2·(1 − 0.01) − 0.1 = 1.88
    const layout = flatLayout([['w', [1, 1]]]);
    const buf = { params: Float32Array.of(2), m: new Float32Array(1), v: new Float32Array(1), grads: Float32Array.of(0.5) };
    adamwSpan(buf, layout.entries, [1], 0, 1, { ...HP, lr: 0.1, t: 1, gradScale: 1 });
    expect(buf.m[0]).toBeCloseTo(0.05, 7);
    expect(buf.v[0]).toBeCloseTo(0.0125, 7);
    expect(buf.params[0]).toBeCloseTo(1.88, 6);
  });

  it('equals AdamW.step over three steps, span by span, with a clip factor, and skips unused weights', () => {
    const shapes: [string, number[]][] = [['w', [3, 4]], ['b', [4]], ['idle', [2]]];
    const layout = flatLayout(shapes);
    const rng = createRng('flat');
    const init = Float32Array.from({ length: layout.total }, () => rng.next() - 0.5);
    const vars = new Map(
      layout.entries.map((e) => [e.name, tf.variable(tf.tensor(init.slice(e.offset, e.offset + e.size), [...e.shape]))] as const),
    );
    const opt = new AdamW(vars, HP);
    const flat = { params: init.slice(), m: new Float32Array(layout.total), v: new Float32Array(layout.total), grads: new Float32Array(layout.total) };
    const before = tf.memory().numTensors;
    try {
      for (let t = 1; t <= 3; t++) {
        for (let i = 0; i < layout.total; i++) flat.grads[i] = rng.next() - 0.5;
        const norm = Math.sqrt(sumSquares(flat.grads, 0, 7) + sumSquares(flat.grads, 7, layout.total));
        const scale = clipFactor(norm, 0.5);
        expect(scale).toBeCloseTo(0.5 / (norm + 1e-6), 7);
        // AdamW on the clipped gradients of w and b only ("idle" has no gradient).
        const grads = new Map(
          layout.entries
            .slice(0, 2)
            .map((e) => [e.name, tf.tidy(() => tf.mul(tf.tensor(flat.grads.slice(e.offset, e.offset + e.size), [...e.shape]), scale))] as const),
        );
        opt.step(grads, 0.05);
        tf.dispose([...grads.values()]);
        // Two spans that cut "w" in the middle, as two workers would.
        for (const [a, b] of [[0, 7], [7, layout.total]]) adamwSpan(flat, layout.entries, [1, 1, 0], a, b, { ...HP, lr: 0.05, t, gradScale: scale });
      }
      for (const e of layout.entries) {
        const want = vars.get(e.name)!.dataSync();
        const got = flat.params.subarray(e.offset, e.offset + e.size);
        for (let i = 0; i < e.size; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-6);
      }
      expect(Array.from(flat.params.subarray(16, 18))).toEqual(Array.from(init.subarray(16, 18))); // untouched
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      opt.dispose();
      tf.dispose([...vars.values()]);
    }
  });

  it('clips only above the limit and not at all with maxNorm 0', () => {
    expect(clipFactor(0.25, 1)).toBe(1);
    expect(clipFactor(4, 1)).toBeCloseTo(1 / (4 + 1e-6), 12);
    expect(clipFactor(4, 0)).toBe(1);
    // 3² + 4² = 25
    expect(sumSquares(Float32Array.of(3, 4, 100), 0, 2)).toBe(25);
  });
});
