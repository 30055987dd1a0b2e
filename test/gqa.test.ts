import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { causalMask, MASKED } from '../src/attention/causalMask.js';
import { groupedAttention } from '../src/attention/groupedAttention.js';
import { GroupedQueryAttention, type GroupedQueryAttentionConfig } from '../src/attention/groupedQueryAttention.js';
import { MultiHeadAttention } from '../src/attention/multiHeadAttention.js';
import { scaledDotProductAttention } from '../src/attention/scaledDotProduct.js';
import { slidingWindowMask } from '../src/attention/slidingWindowMask.js';
import { createRng } from '../src/util/rng.js';
import { maxRelDiff, normals, setVar, take, values } from './helpers.js';

const CALL = { training: false, seed: 0 } as const;

function gqa(extra: Partial<GroupedQueryAttentionConfig> = {}, seed = 3): GroupedQueryAttention {
  const config: GroupedQueryAttentionConfig = {
    nEmbd: 8, nHead: 4, nKvHead: 2, headDim: 3, bias: true, dropout: 0, projStd: 0.02, window: 0, qkNorm: false, normEps: 1e-6,
    ...extra,
  };
  const m = new GroupedQueryAttention(config, createRng(seed));
  // Weights and biases of a realistic size (std 0.5) so the attention is far from uniform.
  const rng = createRng(seed + 100);
  for (const [name, v] of m.weights()) setVar(v, normals(rng, v.size, 0.5, name.endsWith('_norm.weight') ? 1 : 0));
  return m;
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

describe('GroupedQueryAttention', () => {
  it('with nKvHead = nHead equals MultiHeadAttention given the same weights', () => {
    const before = tf.memory().numTensors;
    const [b, t, c] = [2, 5, 8];
    const mha = new MultiHeadAttention({ nEmbd: c, nHead: 2, blockSize: 6, bias: true, dropout: 0, projStd: 0.02 }, createRng(1));
    const rng = createRng(2);
    for (const [, v] of mha.weights()) setVar(v, normals(rng, v.size, 0.5));
    const g = gqa({ nHead: 2, nKvHead: 2, headDim: 4 });
    // c_attn's columns are [q | k | v], each head-major, which is the q/k/v_proj layout.
    const w = new Map(g.weights());
    const cAttn = tf.tensor2d(values(mha.cAttnW), [c, 3 * c]);
    const cAttnB = tf.tensor1d(values(mha.cAttnB!));
    ['q_proj', 'k_proj', 'v_proj'].forEach((name, part) => {
      setVar(w.get(`${name}.weight`)!, take(tf.slice(cAttn, [0, part * c], [c, c])));
      setVar(w.get(`${name}.bias`)!, take(tf.slice(cAttnB, [part * c], [c])));
    });
    setVar(w.get('o_proj.weight')!, values(mha.cProjW));
    setVar(w.get('o_proj.bias')!, values(mha.cProjB!));
    const x = input(b, t, c);
    const yMha = take(tf.tidy(() => mha.forward(x, b, t, CALL))); // fused kernel path
    const yGqa = take(tf.tidy(() => g.forward(x, b, t, CALL)));
    expect(maxRelDiff(yGqa, yMha)).toBeLessThan(1e-5);
    tf.dispose([cAttn, cAttnB, x]);
    mha.dispose();
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    ['GQA', 2],
    ['MQA', 1],
  ])('%s equals attention with each key/value head repeated for its query heads by hand', (_label, nKvHead) => {
    const [b, t, c, nh, hd] = [2, 5, 8, 4, 3];
    const g = gqa({ nHead: nh, nKvHead, headDim: hd });
    const w = new Map(g.weights());
    const x = input(b, t, c);
    const reference = take(
      tf.tidy(() => {
        const proj = (name: string, n: number) =>
          tf.transpose(tf.reshape(tf.add(tf.matMul(x, w.get(`${name}.weight`)!), w.get(`${name}.bias`)!), [b, t, n, hd]), [0, 2, 1, 3]); // (B, n, T, hd)
        // Query head h reads key/value head ⌊h / (nh / nKv)⌋: [0, 0, 1, 1] for GQA, [0, 0, 0, 0] for MQA.
        const owner = Array.from({ length: nh }, (_, h) => Math.floor(h / (nh / nKvHead)));
        const k = tf.gather(proj('k_proj', nKvHead), owner, 1); // (B, nh, T, hd)
        const v = tf.gather(proj('v_proj', nKvHead), owner, 1); // (B, nh, T, hd)
        const heads = scaledDotProductAttention(proj('q_proj', nh), k, v).output; // (B, nh, T, hd)
        const merged = tf.reshape(tf.transpose(heads, [0, 2, 1, 3]), [b * t, nh * hd]); // (B·T, nh·hd)
        return tf.add(tf.matMul(merged, w.get('o_proj.weight')!), w.get('o_proj.bias')!); // (B·T, C)
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
    // Scaling W^Q, W^K (no biases) by 5 scales q and k by 5; RMSNorm undoes it up to ε, plain attention does not.
    const [b, t, c] = [1, 4, 8];
    const x = input(b, t, c);
    const outputs = [true, false].map((qkNorm) => {
      const g = gqa({ qkNorm, bias: false });
      const y = take(tf.tidy(() => g.forward(x, b, t, CALL)));
      const w = new Map(g.weights());
      for (const name of ['q_proj.weight', 'k_proj.weight']) setVar(w.get(name)!, values(w.get(name)!).map((v) => 5 * v));
      const scaled = take(tf.tidy(() => g.forward(x, b, t, CALL)));
      g.dispose();
      return maxRelDiff(scaled, y);
    });
    expect(outputs[0]).toBeLessThan(1e-4);
    expect(outputs[1]).toBeGreaterThan(1e-2);
    x.dispose();
  });

  it('lists its weights under Llama names with their shapes', () => {
    const g = gqa({ qkNorm: true, bias: false });
    // q (8, 4·3), k and v (8, 2·3), o (4·3, 8), q/k norms over hd = 3
    expect(g.weights().map(([n, v]) => `${n} [${v.shape}]`)).toEqual([
      'q_proj.weight [8,12]',
      'k_proj.weight [8,6]',
      'v_proj.weight [8,6]',
      'o_proj.weight [12,8]',
      'q_norm.weight [3]',
      'k_norm.weight [3]',
    ]);
    g.dispose();
  });
});
