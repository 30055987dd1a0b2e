import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AdamW } from '../src/train/adamw.js';
import { adamwSpan, clipFactor, reduceSpan, sumSquares, type FlatBuffers, type FlatKernels } from '../src/train/parallel/flatAdamW.js';
import { updateKernelsOn } from '../src/ops/wasm/heapKernels.js';
import { flatLayout, flatViews } from '../src/train/parallel/layout.js';
import { createRng } from '../src/util/rng.js';

const HP = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

/** Flat params/m/v/grads of n floats: plain arrays ('JS'), or parts of a shared wasm memory with its kernels ('wasm'). */
function flatBlock(n: number, loops: 'JS' | 'wasm'): { flat: FlatBuffers; kernels?: FlatKernels } {
  if (loops === 'JS') {
    return { flat: { params: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n), grads: new Float32Array(n) } };
  }
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const views = flatViews(memory, n, 1);
  const ex = updateKernelsOn(memory);
  expect(ex).toBeDefined();
  return { flat: { params: views.params, m: views.m, v: views.v, grads: views.slots[0] }, kernels: { ex: ex!, at: views.at } };
}

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

  it.each(['JS', 'wasm'] as const)('equals AdamW.step bit for bit over three steps, span by span, with a clip factor, and skips unused weights (%s loops)', (loops) => {
    const shapes: [string, number[]][] = [['w', [9, 7]], ['b', [9]], ['idle', [2]]];
    const layout = flatLayout(shapes);
    const rng = createRng('flat');
    const init = Float32Array.from({ length: layout.total }, () => rng.next() - 0.5);
    const vars = new Map(
      layout.entries.map((e) => [e.name, tf.variable(tf.tensor(init.slice(e.offset, e.offset + e.size), [...e.shape]))] as const),
    );
    const opt = new AdamW(vars, HP);
    // 'wasm': the buffers are parts of a shared wasm memory, as the workers' (layout.ts), and
    // heapKernels.wat's adamw runs them up to a multiple of 4 elements per range.
    const { flat, kernels } = flatBlock(layout.total, loops);
    flat.params.set(init);
    const before = tf.memory().numTensors;
    try {
      for (let t = 1; t <= 3; t++) {
        for (let i = 0; i < layout.total; i++) flat.grads[i] = rng.next() - 0.5;
        const norm = Math.sqrt(sumSquares(flat.grads, 0, 30) + sumSquares(flat.grads, 30, layout.total));
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
        for (const [a, b] of [[0, 30], [30, layout.total]]) adamwSpan(flat, layout.entries, [1, 1, 0], a, b, { ...HP, lr: 0.05, t, gradScale: scale }, kernels);
      }
      for (const e of layout.entries) {
        const want = vars.get(e.name)!.dataSync();
        const got = flat.params.subarray(e.offset, e.offset + e.size);
        expect(Array.from(got)).toEqual(Array.from(want));
      }
      expect(Array.from(flat.params.subarray(72, 74))).toEqual(Array.from(init.subarray(72, 74))); // untouched
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      opt.dispose();
      tf.dispose([...vars.values()]);
    }
  });

  it('reduceSpan sums the slots in order, rounding each sum to float32, the same in wasm and JS', () => {
    // 3 slots of 11 floats, span [1, 10): the kernel takes 8 elements, JS the last one.
    const rng = createRng('reduce');
    const total = 11;
    const values = Array.from({ length: 3 * total }, () => rng.next() * 2 - 1);
    const js = [0, 1, 2].map((s) => Float32Array.from(values.slice(s * total, (s + 1) * total)));
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const views = flatViews(memory, total, 3);
    views.slots.forEach((slot, s) => slot.set(js[s]));
    const ex = updateKernelsOn(memory)!;
    const sqWasm = reduceSpan(views.slots, 1, 10, total, { ex, at: views.at });
    const sqJs = reduceSpan(js, 1, 10, total);
    expect(Array.from(views.slots[0])).toEqual(Array.from(js[0]));
    // (a + b) + c, each rounded to float32; outside the span slot 0 is as it was
    const f = (i: number) => Math.fround(values[i]); // the slots hold float32
    for (let i = 1; i < 10; i++) expect(js[0][i]).toBe(Math.fround(Math.fround(f(i) + f(total + i)) + f(2 * total + i)));
    expect(js[0][0]).toBe(f(0));
    let want = 0;
    for (let i = 1; i < 10; i++) want += js[0][i] * js[0][i];
    expect(sqJs).toBe(want);
    expect(Math.abs(sqWasm - want)).toBeLessThan(1e-15 * want); // double sums in another order
  });

  it('clips only above the limit and not at all with maxNorm 0', () => {
    expect(clipFactor(0.25, 1)).toBe(1);
    expect(clipFactor(4, 1)).toBeCloseTo(1 / (4 + 1e-6), 12);
    expect(clipFactor(4, 0)).toBe(1);
    // 3² + 4² = 25
    expect(sumSquares(Float32Array.of(3, 4, 100), 0, 2)).toBe(25);
  });
});
