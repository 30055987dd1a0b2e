import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { Activation, GPTConfig } from '../src/config/config.js';
import { GPT } from '../src/model/gpt.js';
import { createRng } from '../src/util/rng.js';
import { expectClose, lossAndGrads, maxRelDiff, randomIds, randomizeWeights, referenceLossAndGrads, take, values } from './helpers.js';

const TINY: GPTConfig = { vocabSize: 7, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8, seed: 5 };

/** A tiny model with every weight moved off its init (non-zero biases, gains ≠ 1). */
function tinyModel(extra: Partial<GPTConfig> = {}, std = 0.3): GPT {
  const model = new GPT({ ...TINY, ...extra });
  randomizeWeights(model.namedWeights(), createRng(99), std);
  return model;
}

function lossAt(model: GPT, ids: tf.Tensor2D, targets: tf.Tensor2D): number {
  return take(model.loss(ids, targets))[0];
}

describe('GPT gradients', () => {
  const cases: Array<[string, Partial<GPTConfig>, string[]]> = [
    ['gelu, bias, tied', { activation: 'gelu', bias: true },
      ['wte.weight', 'wpe.weight', 'h.0.attn.c_attn.weight', 'h.0.ln_1.weight', 'h.1.mlp.c_fc.bias', 'ln_f.bias']],
    ['swiglu, no bias, untied', { activation: 'swiglu', bias: false, tieEmbeddings: false },
      ['wte.weight', 'wpe.weight', 'h.1.attn.c_attn.weight', 'h.0.ln_2.weight', 'h.0.mlp.c_up.weight', 'lm_head.weight']],
  ];

  it.each(cases)('match central finite differences (%s)', (_label, extra, names) => {
    const model = tinyModel(extra);
    const rng = createRng(7);
    const ids = randomIds(rng, 2, 5, 7);
    const targets = randomIds(rng, 2, 5, 7);
    const { grads } = lossAndGrads(model, ids, targets);
    const weights = model.namedWeights();
    const eps = 1e-2;
    for (const name of names) {
      const v = weights.get(name)!;
      const g = grads.get(name)!;
      // The 3 largest |∂L/∂w| of each weight, and for c_attn the largest in each of the Q, K, V column blocks.
      const cols = v.rank === 2 ? (v.shape[1] as number) : g.length;
      const blocks = name.endsWith('c_attn.weight') ? 3 : 1;
      const picks: number[] = [];
      for (let blk = 0; blk < blocks; blk++) {
        const inBlock = (i: number) => Math.floor(((i % cols) * blocks) / cols) === blk;
        const order = g.map((x, i) => [Math.abs(x), i] as const).filter(([, i]) => inBlock(i)).sort((a, b) => b[0] - a[0]);
        picks.push(...order.slice(0, blocks === 1 ? 3 : 1).map(([, i]) => i));
      }
      const base = values(v);
      for (const i of picks) {
        const at = (delta: number) => {
          const w = base.slice();
          w[i] += delta;
          tf.tidy(() => v.assign(tf.tensor(w, v.shape)));
          return lossAt(model, ids, targets);
        };
        // (L(w + ε) − L(w − ε)) / 2ε, error O(ε²) plus float32 noise ~1e-7·L/ε ≈ 2e-5
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
        expect(Math.abs(g[i])).toBeGreaterThan(2e-3); // well above the noise floor
        expect(Math.abs(fd - g[i]) / Math.abs(g[i]), `${name}[${i}]: fd ${fd} vs grad ${g[i]}`).toBeLessThan(2e-2);
      }
    }
    tf.dispose([ids, targets]);
    model.dispose();
  });

  const activations: Activation[] = ['gelu', 'gelu_tanh', 'relu', 'swiglu'];
  const combos = activations.flatMap((activation) =>
    [true, false].flatMap((bias) => [true, false].map((tieEmbeddings) => ({ activation, bias, tieEmbeddings }))),
  );
  it.each(combos)('the library and the plain autograd reference (test/reference) give the same loss and gradients (%o)', (extra) => {
    const model = tinyModel(extra);
    const rng = createRng(8);
    const ids = randomIds(rng, 2, 6, 7);
    const targets = randomIds(rng, 2, 6, 7);
    const fast = lossAndGrads(model, ids, targets);
    const plain = referenceLossAndGrads(model, ids, targets);
    expect(Math.abs(fast.loss - plain.loss) / plain.loss).toBeLessThan(1e-5);
    expect([...fast.grads.keys()]).toEqual([...plain.grads.keys()]);
    for (const [name, g] of fast.grads) {
      expect(maxRelDiff(g, plain.grads.get(name)!), name).toBeLessThan(1e-5);
    }
    tf.dispose([ids, targets]);
    model.dispose();
  });
});

describe('GPT forward', () => {
  it('is causal: changing token p changes logits at p but never before p', () => {
    const model = tinyModel();
    const base = [[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]];
    const logitsOf = (rows: number[][]) => {
      const ids = tf.tensor2d(rows, [2, 6], 'int32');
      const out = take(model.forward(ids)); // (2, 6, 7) flattened
      ids.dispose();
      return out;
    };
    const ref = logitsOf(base);
    const at = (l: number[], b: number, t: number) => l.slice((b * 6 + t) * 7, (b * 6 + t + 1) * 7);
    for (let p = 0; p < 6; p++) {
      const changed = logitsOf(base.map((row) => row.map((x, t) => (t === p ? (x + 3) % 7 : x))));
      for (let b = 0; b < 2; b++) {
        for (let t = 0; t < p; t++) expectClose(at(changed, b, t), at(ref, b, t), 1e-5);
        expect(maxRelDiff(at(changed, b, p), at(ref, b, p))).toBeGreaterThan(1e-3);
      }
    }
    model.dispose();
  });

  it('loss at initialisation is close to ln(vocabSize) and equals the mean −ln softmax of forward', () => {
    const model = new GPT({ vocabSize: 65, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 });
    const rng = createRng(1);
    const ids = randomIds(rng, 4, 16, 65);
    const targets = randomIds(rng, 4, 16, 65);
    const loss = lossAt(model, ids, targets);
    // Logits start with std ≈ 0.02·√16 = 0.08, so p ≈ 1/65 and L ≈ ln 65 = 4.174387.
    expect(Math.abs(loss - Math.log(65))).toBeLessThan(0.1);
    const logits = take(model.forward(ids)); // (4, 16, 65)
    const tgt = values(targets);
    let sum = 0;
    for (let n = 0; n < 64; n++) {
      const row = logits.slice(65 * n, 65 * (n + 1));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, z) => s + Math.exp(z - m), 0));
      sum += lse - row[tgt[n]];
    }
    expect(loss).toBeCloseTo(sum / 64, 5);
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('forwardWithAttention returns nLayer causal attention maps (B, nh, T, T) and the forward logits', () => {
    const model = tinyModel();
    const ids = tf.tensor2d([[1, 2, 3, 4], [0, 0, 6, 6]], [2, 4], 'int32');
    const { logits, attention } = model.forwardWithAttention(ids);
    expect(attention.length).toBe(2);
    for (const a of attention) {
      expect(a.shape).toEqual([2, 2, 4, 4]);
      const w = take(a);
      for (let r = 0; r < 16; r++) {
        const row = w.slice(4 * r, 4 * r + 4);
        expect(row.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
        const i = r % 4; // query position
        for (let j = i + 1; j < 4; j++) expect(row[j]).toBe(0);
      }
    }
    expectClose(take(logits), take(model.forward(ids)), 1e-5);
    ids.dispose();
    model.dispose();
  });

  it('rejects bad ids and targets with clear messages', () => {
    const model = new GPT(TINY);
    const floatIds = tf.tensor2d([[1, 2]], [1, 2], 'float32');
    const rank1 = tf.tensor1d([1, 2], 'int32') as unknown as tf.Tensor2D;
    const tooLong = tf.zeros([1, 7], 'int32') as tf.Tensor2D;
    const ok = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const badTargets = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    expect(() => model.forward(floatIds)).toThrow(/ids must be int32, got float32/);
    expect(() => model.forward(rank1)).toThrow(/ids must be a 2-D int32 tensor \(B, T\); got shape \[2\]/);
    expect(() => model.forward(tooLong)).toThrow(/sequence length 7 must be between 1 and blockSize \(6\); crop/);
    expect(() => model.forwardWithAttention(tooLong)).toThrow(/blockSize \(6\)/);
    expect(() => model.loss(ok, badTargets)).toThrow(/targets must have the shape of ids \[1,3\]; got \[1,2\]/);
    model.dispose();
    expect(() => model.forward(ok)).toThrow(/disposed/);
    tf.dispose([floatIds, rank1, tooLong, ok, badTargets]);
  });

  it('applies dropout only in training, reproducibly per seed', () => {
    const withDrop = new GPT({ ...TINY, dropout: 0.3 });
    const noDrop = new GPT(TINY);
    const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const run = (m: GPT, training: boolean, seed: number) => take(m.forward(ids, { training, seed }));
    expect(run(withDrop, false, 0)).toEqual(run(noDrop, false, 0)); // same seed → same weights; eval ignores dropout
    const a = run(withDrop, true, 1);
    expect(run(withDrop, true, 1)).toEqual(a);
    expect(run(withDrop, true, 2)).not.toEqual(a);
    expect(run(noDrop, true, 1)).toEqual(run(noDrop, false, 0)); // rate 0: training changes nothing
    ids.dispose();
    withDrop.dispose();
    noDrop.dispose();
  });
});

describe('GPT weights', () => {
  it('counts parameters by hand (tied head once; untied adds V·C)', () => {
    // V = 7, T = 6, C = 8, H = 4C = 32, L = 2, with biases:
    // per block: ln_1 2C + c_attn (3C² + 3C) + c_proj (C² + C) + ln_2 2C + c_fc (C·H + H) + c_proj (H·C + C)
    //          = 16 + 216 + 72 + 16 + 288 + 264 = 872
    // total = wte V·C + wpe T·C + L·872 + ln_f 2C = 56 + 48 + 1744 + 16 = 1864; untied + V·C = 1920
    const tied = new GPT(TINY);
    expect(tied.numParams()).toBe(1864);
    const untied = new GPT({ ...TINY, tieEmbeddings: false });
    expect(untied.numParams()).toBe(1920);
    // SwiGLU without bias: H = 8·⌈(8/3·8)/8⌉ = 8·⌈2.67⌉ = 24; per block: ln 8 + 3C² 192 + C² 64 + ln 8
    //   + c_fc C·H 192 + c_up C·H 192 + c_proj H·C 192 = 848; total = 56 + 48 + 2·848 + 8 = 1808
    const swiglu = new GPT({ ...TINY, activation: 'swiglu', bias: false });
    expect(swiglu.numParams()).toBe(1808);
    [tied, untied, swiglu].forEach((m) => m.dispose());
  });

  it('names weights in GPT-2 order with their shapes', () => {
    const model = new GPT({ ...TINY, nLayer: 1, tieEmbeddings: false });
    expect([...model.namedWeights()].map(([n, v]) => `${n} [${v.shape}]`)).toEqual([
      'wte.weight [7,8]',
      'wpe.weight [6,8]',
      'h.0.ln_1.weight [8]',
      'h.0.ln_1.bias [8]',
      'h.0.attn.c_attn.weight [8,24]',
      'h.0.attn.c_attn.bias [24]',
      'h.0.attn.c_proj.weight [8,8]',
      'h.0.attn.c_proj.bias [8]',
      'h.0.ln_2.weight [8]',
      'h.0.ln_2.bias [8]',
      'h.0.mlp.c_fc.weight [8,32]',
      'h.0.mlp.c_fc.bias [32]',
      'h.0.mlp.c_proj.weight [32,8]',
      'h.0.mlp.c_proj.bias [8]',
      'ln_f.weight [8]',
      'ln_f.bias [8]',
      'lm_head.weight [7,8]',
    ]);
    model.dispose();
  });

  it('seeded init is deterministic: same seed, same weights; another seed, different ones', () => {
    const a = new GPT(TINY);
    const b = new GPT(TINY);
    const c = new GPT({ ...TINY, seed: 6 });
    const wb = b.namedWeights();
    const wc = c.namedWeights();
    for (const [name, v] of a.namedWeights()) expect(values(v), name).toEqual(values(wb.get(name)!));
    expect(values(a.wte)).not.toEqual(values(wc.get('wte.weight')!));
    expect(values(a.namedWeights().get('h.1.attn.c_attn.weight')!)).not.toEqual(values(wc.get('h.1.attn.c_attn.weight')!));
    // init std 0.02: the sample std of the 56 wte entries lies well inside [0.01, 0.03]
    const w = values(a.wte);
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    expect(std).toBeGreaterThan(0.01);
    expect(std).toBeLessThan(0.03);
    [a, b, c].forEach((m) => m.dispose());
  });
});

describe('GPT memory', () => {
  it('forward, loss + gradients and forwardWithAttention leave no tensors', () => {
    const model = new GPT({ ...TINY, dropout: 0.1 });
    const rng = createRng(2);
    const ids = randomIds(rng, 2, 6, 7);
    const targets = randomIds(rng, 2, 6, 7);
    const before = tf.memory().numTensors;
    model.forward(ids).dispose();
    model.forward(ids, { training: true, seed: 3 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    const { value, grads } = tf.variableGrads(() => model.loss(ids, targets, { training: true, seed: 4 }), [
      ...model.namedWeights().values(),
    ]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    const { logits, attention } = model.forwardWithAttention(ids);
    tf.dispose([logits, ...attention]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('dispose frees every tensor the model made', () => {
    const before = tf.memory().numTensors;
    const model = new GPT({ ...TINY, tieEmbeddings: false, activation: 'swiglu' });
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose(); // idempotent
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('GPT without initialisation (what loaders build)', () => {
  it('has the same names and shapes, norms at γ = 1 and every other weight zero: no random draw to pay for', () => {
    const drawn = new GPT(TINY);
    const blank = new GPT(TINY, { initialize: false });
    const a = [...drawn.namedWeights()].map(([n, v]) => `${n} [${v.shape}]`);
    expect([...blank.namedWeights()].map(([n, v]) => `${n} [${v.shape}]`)).toEqual(a);
    for (const [name, v] of blank.namedWeights()) {
      const want = /ln_[12f]\.weight$/.test(name) ? 1 : 0; // norm gains start at 1 either way
      expect(values(v).every((x) => x === want), name).toBe(true);
    }
    // the seeded init is not all zeros (wte ~ N(0, 0.02²))
    expect(values(drawn.wte).some((x) => x !== 0)).toBe(true);
    drawn.dispose();
    blank.dispose();
  });
});
