import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from './helpers.js';
import { AdamW } from '../src/train/adamw.js';
import { wasmAdamWAvailable } from '../src/ops/wasm/adamw.js';
import { createRng } from '../src/util/rng.js';


const OPTS = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 } as const;

/** A (1, 2) matrix and a (2) vector starting equal, so only weight decay can tell them apart. */
function makeParams(): Map<string, tf.Variable> {
  return new Map<string, tf.Variable>([
    ['w', tf.variable(tf.tensor2d([[1, -2]]), true)],
    ['b', tf.variable(tf.tensor1d([1, -2]), true)],
  ]);
}

function grads(values: number[]): Map<string, tf.Tensor> {
  return new Map<string, tf.Tensor>([
    ['w', tf.tensor2d([values])],
    ['b', tf.tensor1d(values)],
  ]);
}

/** Two steps: g1 = [0.5, −1] at lr 0.1, then g2 = [0.1, 0.2] at lr 0.05. */
function twoSteps(opt: AdamW): void {
  const g1 = grads([0.5, -1]);
  opt.step(g1, 0.1);
  tf.dispose([...g1.values()]);
  const g2 = grads([0.1, 0.2]);
  opt.step(g2, 0.05);
  tf.dispose([...g2.values()]);
}

describe('AdamW', () => {
  it('matches two hand-computed PyTorch-style steps, decaying only the matrix', () => {
    const params = makeParams();
    const opt = new AdamW(params, OPTS);
    expect(opt.decays('w')).toBe(true);
    expect(opt.decays('b')).toBe(false);

    const g1 = grads([0.5, -1]);
    opt.step(g1, 0.1);
    tf.dispose([...g1.values()]);
    // t = 1: m = 0.1·g = [0.05, −0.1], v = 0.01·g² = [0.0025, 0.01]
    // m̂ = m/(1 − 0.9) = g, √v̂ = √(v/(1 − 0.99)) = |g|, so the step is lr·sign(g) = ±0.1 (ε shifts it by 1e-9).
    // w: decay first, p·(1 − lr·λ) = p·(1 − 0.1·0.1) = p·0.99 → [0.99, −1.98]; then −[0.1, −0.1] → [0.89, −1.88]
    // b: no decay → [1 − 0.1, −2 + 0.1] = [0.9, −1.9]
    expectClose(params.get('w')!.dataSync(), [0.89, -1.88], 1e-6);
    expectClose(params.get('b')!.dataSync(), [0.9, -1.9], 1e-6);

    const g2 = grads([0.1, 0.2]);
    opt.step(g2, 0.05);
    tf.dispose([...g2.values()]);
    // t = 2: m = 0.9·[0.05, −0.1] + 0.1·[0.1, 0.2] = [0.055, −0.07]
    //        v = 0.99·[0.0025, 0.01] + 0.01·[0.01, 0.04] = [0.002575, 0.0103]
    // bias corrections: 1 − 0.9² = 0.19, 1 − 0.99² = 0.0199
    // m̂ = [0.055/0.19, −0.07/0.19] = [0.2894737, −0.3684211]
    // √v̂ = [√(0.002575/0.0199), √(0.0103/0.0199)] = [0.3597179, 0.7194358]
    // step = 0.05·m̂/√v̂ = [0.0402362, −0.0256049]
    // w: [0.89, −1.88]·(1 − 0.05·0.1 = 0.995) − step = [0.88555 − 0.0402362, −1.8706 + 0.0256049]
    //    = [0.8453138, −1.8449951]
    // b: [0.9 − 0.0402362, −1.9 + 0.0256049] = [0.8597638, −1.8743951]
    expectClose(params.get('w')!.dataSync(), [0.8453138, -1.8449951], 1e-6);
    expectClose(params.get('b')!.dataSync(), [0.8597638, -1.8743951], 1e-6);
    expect(opt.stepCount).toBe(2);

    const st = opt.getState();
    expectClose(st.m.get('w')!, [0.055, -0.07], 1e-6);
    expectClose(st.v.get('b')!, [0.002575, 0.0103], 1e-6);
    opt.dispose();
    tf.dispose([...params.values()]);
  });

  it('resumes exactly from getState/setState', () => {
    const a = makeParams();
    const optA = new AdamW(a, OPTS);
    twoSteps(optA);

    const b = makeParams();
    const optB = new AdamW(b, OPTS);
    const g1 = grads([0.5, -1]);
    optB.step(g1, 0.1);
    tf.dispose([...g1.values()]);
    // Hand the state (and weights) to a fresh optimizer, as a checkpoint would.
    const saved = structuredClone(optB.getState());
    const weights = new Map([...b].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    optB.dispose();
    const c = makeParams();
    for (const [k, v] of c) v.assign(tf.tensor(weights.get(k)!, v.shape));
    const optC = new AdamW(c, OPTS);
    optC.setState(saved);
    expect(optC.stepCount).toBe(1);
    const g2 = grads([0.1, 0.2]);
    optC.step(g2, 0.05);
    tf.dispose([...g2.values()]);
    for (const k of ['w', 'b']) expect(Array.from(c.get(k)!.dataSync())).toEqual(Array.from(a.get(k)!.dataSync()));

    optA.dispose();
    optC.dispose();
    tf.dispose([...a.values(), ...b.values(), ...c.values()]);
  });

  it('allocates its moments once and nothing per step; dispose frees them', () => {
    const params = makeParams();
    const base = tf.memory().numTensors;
    const opt = new AdamW(params, OPTS);
    // two moments for each of the two parameters
    expect(tf.memory().numTensors).toBe(base + 4);
    twoSteps(opt);
    twoSteps(opt);
    expect(tf.memory().numTensors).toBe(base + 4);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(base);
    tf.dispose([...params.values()]);
  });

  it('leaves parameters without a gradient untouched', () => {
    const params = makeParams();
    const opt = new AdamW(params, OPTS);
    const g = new Map<string, tf.Tensor>([['w', tf.tensor2d([[0.5, -1]])]]);
    opt.step(g, 0.1);
    tf.dispose([...g.values()]);
    expectClose(params.get('b')!.dataSync(), [1, -2], 1e-6);
    expectClose(params.get('w')!.dataSync(), [0.89, -1.88], 1e-6);
    opt.dispose();
    tf.dispose([...params.values()]);
  });

  it('rejects bad hyperparameters, unknown names, wrong shapes and foreign state clearly', () => {
    const params = makeParams();
    expect(() => new AdamW(params, { beta2: 1 })).toThrow(/beta2 must be in \[0, 1\)/);
    expect(() => new AdamW(params, { eps: 0 })).toThrow(/eps must be > 0/);
    expect(() => new AdamW(new Map())).toThrow(/no parameters/);
    const opt = new AdamW(params, OPTS);
    const stray = new Map<string, tf.Tensor>([['nope', tf.scalar(1)]]);
    expect(() => opt.step(stray, 0.1)).toThrow(/"nope" is not one of the optimizer's parameters/);
    const bad = new Map<string, tf.Tensor>([['w', tf.tensor1d([1, 2])]]);
    expect(() => opt.step(bad, 0.1)).toThrow(/gradient "w" has shape \[2\] but the parameter is \[1, 2\]/);
    const ok = grads([1, 1]);
    expect(() => opt.step(ok, -1)).toThrow(/lr must be/);
    expect(opt.stepCount).toBe(0);
    const st = opt.getState();
    const short = { ...st, m: new Map([...st.m].map(([k]) => [k, new Float32Array(1)])) };
    expect(() => opt.setState(short)).toThrow(/saved m of "w" has 1 values but the parameter has 2/);
    opt.dispose();
    expect(() => opt.step(ok, 0.1)).toThrow(/disposed/);
    tf.dispose([...params.values(), ...stray.values(), ...bad.values(), ...ok.values()]);
  });

  it('folds a gradient scale into the update, and on wasm its one-pass kernel writes the ops\' values bit for bit', () => {
    // A decayed (3, 5) matrix (15 elements: three blocks of four for the kernel, 3 left to
    // ops/adamwRange.ts), a vector of 7 (one block and 3) and one of 3 (JS only). The reference is
    // the update written out with tfjs ops, after multiplying each gradient by the scale.
    expect(wasmAdamWAvailable()).toBe(tf.getBackend() === 'wasm');
    const rng = createRng('adamw-fused');
    const shapes: [string, number[]][] = [['w', [3, 5]], ['b', [7]], ['g', [3]]];
    const draw = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1), shape);
    const init = shapes.map(([, sh]) => draw(sh));
    const params = new Map(shapes.map(([n], i) => [n, tf.variable(init[i].clone())] as const));
    const opt = new AdamW(params, OPTS);
    const ref = shapes.map((_, i) => ({ p: init[i].clone(), m: tf.zerosLike(init[i]), v: tf.zerosLike(init[i]) }));
    const before = tf.memory().numTensors;
    for (let t = 1; t <= 3; t++) {
      const lr = 0.01 * t;
      const g = new Map(shapes.map(([n, sh]) => [n, draw(sh)] as const));
      const scale = tf.scalar(0.37 * t);
      opt.step(g, lr, scale);
      const [b1, b2] = [OPTS.beta1, OPTS.beta2];
      const stepSize = lr / (1 - b1 ** t);
      const sqrtBc2 = Math.sqrt(1 - b2 ** t);
      shapes.forEach(([n, sh], i) => {
        const r = ref[i];
        const next = tf.tidy(() => {
          const gs = tf.mul(g.get(n)!, scale);
          const m = tf.add(tf.mul(r.m, b1), tf.mul(gs, 1 - b1));
          const v = tf.add(tf.mul(r.v, b2), tf.mul(tf.square(gs), 1 - b2));
          const update = tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), sqrtBc2), OPTS.eps)), stepSize);
          const base = sh.length >= 2 ? tf.mul(r.p, 1 - lr * OPTS.weightDecay) : r.p;
          return { p: tf.sub(base, update), m, v };
        });
        tf.dispose([r.p, r.m, r.v]);
        ref[i] = next;
      });
      tf.dispose([...g.values(), scale]);
    }
    expect(tf.memory().numTensors).toBe(before);
    const state = opt.getState();
    shapes.forEach(([n], i) => {
      expect(Array.from(params.get(n)!.dataSync())).toEqual(Array.from(ref[i].p.dataSync()));
      expect(Array.from(state.m.get(n)!)).toEqual(Array.from(ref[i].m.dataSync()));
      expect(Array.from(state.v.get(n)!)).toEqual(Array.from(ref[i].v.dataSync()));
    });
    // The weights moved: the comparison is not of two untouched copies.
    expect(Math.abs(params.get('w')!.dataSync()[0] - init[0].dataSync()[0])).toBeGreaterThan(1e-3);
    opt.dispose();
    tf.dispose([...params.values(), ...init, ...ref.flatMap((r) => [r.p, r.m, r.v])]);
  });
  it('on wasm writes over weights it alone owns, bit for bit as the kernel path, and leaves a clone its values', () => {
    // Two copies of the same weights: A updated in place (its tensors own their data alone),
    // B through the kernel path (a clone of each weight held across the step makes it shared).
    const rng = createRng('adamw-in-place');
    const shapes: [string, number[]][] = [['w', [4, 6]], ['b', [6]], ['s', [3]]];
    const values = shapes.map(([, sh]) => Float32Array.from({ length: sh.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1));
    const make = () => new Map(shapes.map(([n, sh], i) => [n, tf.tidy(() => tf.variable(tf.tensor(values[i], sh)))] as const));
    const a = make();
    const b = make();
    const optA = new AdamW(a, OPTS);
    const optB = new AdamW(b, OPTS);
    const ids = [...a.values()].map((v) => v.dataId);
    const x = tf.ones([2, 4]) as tf.Tensor2D; // (2, 4)
    // tfjs's own product (XNNPACK on wasm, which keeps a packed copy of its right operand by id).
    tf.tidy(() => tf.matMul(x, a.get('w')!).dataSync());
    const before = tf.memory().numTensors;
    for (let t = 1; t <= 3; t++) {
      const g = new Map(shapes.map(([n, sh]) => [n, tf.tensor(Array.from({ length: sh.reduce((p, q) => p * q, 1) }, () => rng.next() - 0.5), sh)] as const));
      const clones = [...b.values()].map((v) => tf.clone(v));
      const held = clones.map((c) => Array.from(c.dataSync()));
      optA.step(g, 0.02 * t, 0.5 * t);
      const scale = tf.scalar(0.5 * t);
      optB.step(g, 0.02 * t, scale);
      // The clones still hold the weights from before the step.
      clones.forEach((c, i) => expect(Array.from(c.dataSync())).toEqual(held[i]));
      tf.dispose([...g.values(), ...clones, scale]);
    }
    for (const [n, v] of a) expect(Array.from(v.dataSync())).toEqual(Array.from(b.get(n)!.dataSync()));
    const [sa, sb] = [optA.getState(), optB.getState()];
    for (const [n] of shapes) {
      expect(Array.from(sa.m.get(n)!)).toEqual(Array.from(sb.m.get(n)!));
      expect(Array.from(sa.v.get(n)!)).toEqual(Array.from(sb.v.get(n)!));
    }
    // In place on wasm: A's weights kept their tensors' data; elsewhere each step assigned new ones.
    const same = [...a.values()].map((v, i) => v.dataId === ids[i]);
    expect(same).toEqual(shapes.map(() => tf.getBackend() === 'wasm'));
    // The same product after the in-place updates reads the new weights (no stale packed copy):
    // 1ᵀ·W's column j is the sum of W's column j.
    const w = a.get('w')!;
    const cols = tf.tidy(() => Array.from(tf.matMul(x, w).dataSync()));
    const wv = w.dataSync();
    const expected = Array.from({ length: 6 }, (_, j) => [0, 1, 2, 3].reduce((s, r) => s + wv[r * 6 + j], 0));
    expectClose(cols.slice(0, 6), expected, 1e-5);
    expect(tf.memory().numTensors).toBe(before);
    optA.dispose();
    optB.dispose();
    tf.dispose([x, ...a.values(), ...b.values()]);
  });
});
