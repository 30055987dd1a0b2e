import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { causalMask, MASKED } from '../src/attention/causalMask.js';
import { groupedAttention } from '../src/attention/groupedAttention.js';
import { Attention } from '../src/attention/attention.js';
import { resolveConfig } from '../src/config/config.js';
import { planLayer } from '../src/config/plan.js';
import { scaledDotProductAttention } from '../src/attention/scaledDotProduct.js';
import { slidingWindowMask } from '../src/attention/slidingWindowMask.js';
import { createRng } from '../src/util/rng.js';
import { maxRelDiff, normals, setVar, take, values } from './helpers.js';

const CALL = { training: false, seed: 0 } as const;

/** Options of the one-layer plans these tests build (GQA: 4 query heads on 2 key/value heads of width 3). */
interface GqaOptions {
  readonly nHead?: number;
  readonly nKvHead?: number;
  readonly headDim?: number;
  readonly bias?: boolean;
  readonly window?: number;
  readonly qkNorm?: boolean;
}

function gqa(o: GqaOptions = {}, seed = 3): Attention {
  const c = resolveConfig({
    vocabSize: 2, nLayer: 1, blockSize: 8, nEmbd: 8, nHead: o.nHead ?? 4, nKvHead: o.nKvHead ?? 2, headDim: o.headDim ?? 3,
    bias: o.bias ?? true, slidingWindow: o.window ?? 0, qkNorm: o.qkNorm ?? false, layerNormEps: 1e-6,
  });
  const m = new Attention(planLayer(c, 0), 8, 8, createRng(seed));
  // Weights and biases of a realistic size (std 0.5) so the attention is far from uniform.
  const rng = createRng(seed + 100);
  for (const [name, v] of m.weights()) setVar(v, normals(rng, v.size, 0.5, name.endsWith('_norm.weight') ? 1 : 0));
  return m;
}

/** Columns [from, from + n) of c_attn (and its bias): one of the q, k, v projections. */
function part(m: Attention, from: number, n: number): { w: tf.Tensor2D; b: tf.Tensor1D | undefined } {
  const [rows] = m.qkv.weight.shape;
  return { w: tf.slice(m.qkv.weight, [0, from], [rows, n]), b: m.qkv.bias && tf.slice(m.qkv.bias, [from], [n]) };
}

function input(b: number, t: number, c: number, seed = 9): tf.Tensor2D {
  return tf.tensor2d(normals(createRng(seed), b * t * c), [b * t, c]); // (B·T, C)
}

describe('slidingWindowMask', () => {
  const M = MASKED;

  it('lets query i see keys j with i − window < j ≤ i, by hand', () => {
    // window 2: each row allows its own position and the one before.
    const m = slidingWindowMask(4, 4, 2); // (4, 4)
    expect(take(m)).toEqual([
      0, M, M, M,
      0, 0, M, M,
      M, 0, 0, M,
      M, M, 0, 0,
    ]);
  });

  it('places T queries at the last T of S positions, as in a cached step', () => {
    // 2 queries at positions 3 and 4 of 5, window 3: keys 1..3 and 2..4.
    expect(take(slidingWindowMask(2, 5, 3))).toEqual([M, 0, 0, 0, M, M, M, 0, 0, 0]);
  });

  it('is the causal mask without a window or with one at least as long as the context', () => {
    const causal = take(causalMask(3, 5));
    expect(take(slidingWindowMask(3, 5, 0))).toEqual(causal);
    expect(take(slidingWindowMask(3, 5, 5))).toEqual(causal);
  });

  it('rejects a negative window and more queries than positions', () => {
    expect(() => slidingWindowMask(3, 3, -1)).toThrow(/window must be an integer >= 0/);
    expect(() => slidingWindowMask(4, 3)).toThrow(/4 queries cannot be the last of 3 positions/);
  });
});

describe('groupedAttention', () => {
  it('with as many key/value heads as query heads equals scaledDotProductAttention', () => {
    const rng = createRng(1);
    const q = tf.tensor4d(normals(rng, 2 * 3 * 5 * 4), [2, 3, 5, 4]); // (B, nh, T, hd)
    const k = tf.tensor4d(normals(rng, 2 * 3 * 5 * 4), [2, 3, 5, 4]);
    const v = tf.tensor4d(normals(rng, 2 * 3 * 5 * 4), [2, 3, 5, 4]);
    const mask = causalMask(5);
    const a = groupedAttention(q, k, v, mask);
    const b = scaledDotProductAttention(q, k, v);
    expect(maxRelDiff(values(a.output), values(b.output))).toBeLessThan(1e-6);
    expect(maxRelDiff(values(a.weights), values(b.weights))).toBeLessThan(1e-6);
    tf.dispose([q, k, v, mask, a.output, a.weights, b.output, b.weights]);
  });

  it('names the shapes it needs', () => {
    const q = tf.zeros([1, 3, 2, 4]) as tf.Tensor4D;
    const k = tf.zeros([1, 2, 2, 4]) as tf.Tensor4D;
    const mask = causalMask(2);
    expect(() => groupedAttention(q, k, k, mask)).toThrow(/k and v of shape \(B, nKv, S, hd\) with nKv dividing nh/);
    tf.dispose([q, k, mask]);
  });
});

describe('Attention with grouped-query plans', () => {
  it('with nKvHead = nHead, the fused kernel equals grouped attention given the same weights', () => {
    const before = tf.memory().numTensors;
    const [b, t, c] = [2, 5, 8];
    const g = gqa({ nHead: 2, nKvHead: 2, headDim: 4 });
    const x = input(b, t, c);
    const fused = take(tf.tidy(() => g.forward(x, b, t, CALL))); // fused kernel path
    // Asking for the weights takes the split q/k/v path through groupedAttention.
    const grouped = take(tf.tidy(() => g.forward(x, b, t, { ...CALL, keepWeights: (w: tf.Tensor4D) => w.dispose() })));
    expect(maxRelDiff(fused, grouped)).toBeLessThan(1e-5);
    x.dispose();
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    ['GQA', 2],
    ['MQA', 1],
  ])('%s equals attention with each key/value head repeated for its query heads by hand', (_label, nKvHead) => {
    const [b, t, c, nh, hd] = [2, 5, 8, 4, 3];
    const g = gqa({ nHead: nh, nKvHead, headDim: hd });
    const x = input(b, t, c);
    const reference = take(
      tf.tidy(() => {
        // c_attn's columns: q heads (nh·hd), then k heads (nKv·hd), then v heads (nKv·hd).
        const proj = (from: number, n: number) => {
          const { w, b: bias } = part(g, from * hd, n * hd);
          return tf.transpose(tf.reshape(tf.add(tf.matMul(x, w), bias!), [b, t, n, hd]), [0, 2, 1, 3]); // (B, n, T, hd)
        };
        // Query head h reads key/value head ⌊h / (nh / nKv)⌋: [0, 0, 1, 1] for GQA, [0, 0, 0, 0] for MQA.
        const owner = Array.from({ length: nh }, (_, h) => Math.floor(h / (nh / nKvHead)));
        const k = tf.gather(proj(nh, nKvHead), owner, 1); // (B, nh, T, hd)
        const v = tf.gather(proj(nh + nKvHead, nKvHead), owner, 1); // (B, nh, T, hd)
        const heads = scaledDotProductAttention(proj(0, nh), k, v).output; // (B, nh, T, hd)
        const merged = tf.reshape(tf.transpose(heads, [0, 2, 1, 3]), [b * t, nh * hd]); // (B·T, nh·hd)
        return tf.add(tf.matMul(merged, g.out.weight), g.out.bias!); // (B·T, C)
      }),
    );
    const got = take(tf.tidy(() => g.forward(x, b, t, CALL)));
    expect(maxRelDiff(got, reference)).toBeLessThan(1e-5);
    x.dispose();
    g.dispose();
  });

  it('keeps keys older than the window out of a local layer', () => {
    // Window 2: output rows i >= 2 never read position 0, rows 0 and 1 do.
    const [b, t, c] = [1, 5, 8];
    const g = gqa({ window: 2 });
    const x = input(b, t, c);
    const bumped = tf.tidy(() => tf.add<tf.Tensor2D>(x, tf.pad(tf.fill([1, c], 3), [[0, t - 1], [0, 0]]))); // position 0 changed
    const y0 = take(tf.tidy(() => g.forward(x, b, t, CALL)));
    const y1 = take(tf.tidy(() => g.forward(bumped, b, t, CALL)));
    const rowDiff = (i: number) => Math.max(...y0.slice(i * c, (i + 1) * c).map((v, j) => Math.abs(v - y1[i * c + j])));
    expect(rowDiff(0)).toBeGreaterThan(1e-3);
    expect(rowDiff(1)).toBeGreaterThan(1e-3);
    for (const i of [2, 3, 4]) expect(rowDiff(i)).toBe(0);
    tf.dispose([x, bumped]);
    g.dispose();
  });

  it('with qkNorm ignores the scale of q and k (RMSNorm is scale-invariant)', () => {
    // Scaling the q and k columns of W_qkv (no biases) by 5 scales q and k by 5; RMSNorm undoes it up to ε, plain attention does not.
    const [b, t, c] = [1, 4, 8];
    const x = input(b, t, c);
    const outputs = [true, false].map((qkNorm) => {
      const g = gqa({ qkNorm, bias: false });
      const y = take(tf.tidy(() => g.forward(x, b, t, CALL)));
      const qkCols = (4 + 2) * 3; // q heads then k heads come first
      const w = values(g.qkv.weight).map((v, i) => (i % 24 < qkCols ? 5 * v : v));
      setVar(g.qkv.weight, w);
      const scaled = take(tf.tidy(() => g.forward(x, b, t, CALL)));
      g.dispose();
      return maxRelDiff(scaled, y);
    });
    expect(outputs[0]).toBeLessThan(1e-4);
    expect(outputs[1]).toBeGreaterThan(1e-2);
    x.dispose();
  });

  it('lists its weights under the canonical names with their shapes', () => {
    const g = gqa({ qkNorm: true, bias: false });
    // c_attn (8, (4 + 2·2)·3 = 24), q/k norms over hd = 3, c_proj (4·3, 8)
    expect(g.weights().map(([n, v]) => `${n} [${v.shape}]`)).toEqual([
      'c_attn.weight [8,24]',
      'q_norm.weight [3]',
      'k_norm.weight [3]',
      'c_proj.weight [12,8]',
    ]);
    g.dispose();
  });
});
