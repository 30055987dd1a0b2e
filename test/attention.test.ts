import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { causalMask, MASKED } from '../src/attention/causalMask.js';
import { Attention } from '../src/attention/attention.js';
import { resolveConfig } from '../src/config/config.js';
import { planLayer } from '../src/config/plan.js';
import { scaledDotProductAttention } from '../src/attention/scaledDotProduct.js';
import { createRng } from '../src/util/rng.js';
import { expectClose, normals, randomizeWeights, take, values } from './helpers.js';

/**
 * T = 3, d_k = 4 so 1/√d_k = 1/2. With k_0 = 0, k_1 = [1, 1, 0, 0], k_2 = [0, 0, 2, 2]:
 *   q_1 = [1, 1, 0, 0]: q_1·k = [0, 2, 0] → scaled [0, 1, 0]
 *   q_2 = [0, 0, 1, 1]: q_2·k = [0, 0, 4] → scaled [0, 0, 2]
 *   q_0 = [1, 0, 0, 0]: q_0·k = [0, 1, 0] → scaled [0, 0.5, 0]
 */
const Q = [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]];
const K = [[0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 2, 2]];
const V = [[1, 0], [0, 1], [10, 20]];

// Causal weights: row 0 sees only itself → [1, 0, 0].
// Row 1: softmax([0, 1]) = [1, e]/(1 + e) = [0.268941, 0.731059].
// Row 2: softmax([0, 0, 2]) = [1, 1, e²]/(2 + e²) = [1, 1, 7.389056]/9.389056 = [0.106507, 0.106507, 0.786986].
const CAUSAL_W = [1, 0, 0, 0.268941, 0.731059, 0, 0.106507, 0.106507, 0.786986];
// Outputs Σ_j α_ij v_j: row 0 = v_0 = [1, 0]; row 1 = [0.268941, 0.731059];
// row 2 = [0.106507 + 10·0.786986, 0.106507 + 20·0.786986] = [7.976367, 15.846228].
const CAUSAL_OUT = [1, 0, 0.268941, 0.731059, 7.976367, 15.846228];

function qkv(): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  return [tf.tensor2d(Q), tf.tensor2d(K), tf.tensor2d(V)]; // (3, 4), (3, 4), (3, 2)
}

describe('causalMask', () => {
  it('is 0 on and below the diagonal and MASKED above it', () => {
    const m = causalMask(3); // (3, 3)
    const M = MASKED;
    expect(values(m)).toEqual([0, M, M, 0, 0, M, 0, 0, 0]);
    m.dispose();
  });

  it('places T queries at the last T of S positions', () => {
    // 2 queries at absolute positions 2 and 3 of 4: query 0 sees keys 0..2, query 1 sees all.
    const m = causalMask(2, 4); // (2, 4)
    expect(values(m)).toEqual([0, 0, 0, MASKED, 0, 0, 0, 0]);
    m.dispose();
  });
});

describe('scaledDotProductAttention', () => {
  it('causal: matches the hand-computed weights and outputs', () => {
    const [q, k, v] = qkv();
    const { output, weights } = scaledDotProductAttention(q, k, v);
    expect(output.shape).toEqual([3, 2]);
    expect(weights.shape).toEqual([3, 3]);
    const w = take(weights);
    expectClose(w, CAUSAL_W, 1e-6);
    // zeros above the diagonal, rows summing to 1
    expect([w[1], w[2], w[5]]).toEqual([0, 0, 0]);
    for (let i = 0; i < 3; i++) expect(w[3 * i] + w[3 * i + 1] + w[3 * i + 2]).toBeCloseTo(1, 6);
    expectClose(take(output), CAUSAL_OUT, 1e-5);
    tf.dispose([q, k, v]);
  });

  it('scales scores by 1/√d_k, not 1 nor 1/d_k', () => {
    // d_k = 16: q_0 = k_1 = [2, 0, …] would give q·k = 4; scaled by 1/4 → softmax([0, 1]) = [0.268941, 0.731059].
    // Unscaled it would be softmax([0, 4]) = [0.017986, 0.982014]; with 1/d_k, softmax([0, 0.25]) = [0.437823, 0.562177].
    // v = [[0], [10]] (d_v = 1 ≠ d_k) → output 10·0.731059 = 7.310586 (unscaled: 9.820138).
    const e = (i: number) => Array.from({ length: 16 }, (_, j) => (j === i ? 2 : 0));
    const q = tf.tensor2d([e(0), e(0)]); // (2, 16)
    const k = tf.tensor2d([new Array<number>(16).fill(0), e(0)]); // (2, 16)
    const v = tf.tensor2d([[0], [10]]); // (2, 1)
    const { output, weights } = scaledDotProductAttention(q, k, v, { causal: false });
    expectClose(take(weights), [0.268941, 0.731059, 0.268941, 0.731059], 1e-6);
    expectClose(take(output), [7.310586, 7.310586], 1e-5);
    tf.dispose([q, k, v]);
  });

  it('non-causal: every query sees every key', () => {
    const [q, k, v] = qkv();
    const { output, weights } = scaledDotProductAttention(q, k, v, { causal: false });
    // Row 0: softmax([0, 0.5, 0]) = [1, √e, 1]/(2 + 1.648721) = [0.274069, 0.451863, 0.274069]
    // Row 1: softmax([0, 1, 0]) = [1, e, 1]/(2 + e) = [0.211942, 0.576117, 0.211942]
    // Row 2: as in the causal case (it already saw every key).
    expectClose(
      take(weights),
      [0.274069, 0.451863, 0.274069, 0.211942, 0.576117, 0.211942, 0.106507, 0.106507, 0.786986],
      1e-6,
    );
    // Row 0: [0.274069 + 10·0.274069, 0.451863 + 20·0.274069] = [3.014755, 5.933235]
    // Row 1: [0.211942 + 2.119416, 0.576117 + 4.238831] = [2.331357, 4.814948]
    expectClose(take(output), [3.014755, 5.933235, 2.331357, 4.814948, 7.976367, 15.846228], 1e-5);
    tf.dispose([q, k, v]);
  });

  it('causal with fewer queries than keys: the last query sees every key', () => {
    const [q, k, v] = qkv();
    const q2 = tf.slice(q, [2, 0], [1, 4]); // (1, 4) the query at position 2
    const { output, weights } = scaledDotProductAttention(q2, k, v);
    expectClose(take(weights), CAUSAL_W.slice(6), 1e-6);
    expectClose(take(output), CAUSAL_OUT.slice(4), 1e-5);
    tf.dispose([q, k, v, q2]);
  });

  it('works on leading batch dims, each item independently', () => {
    // (2, 3, T, d): item [b, h] uses the hand case with v scaled by (1 + 3b + h).
    const [q, k, v] = qkv();
    const scales = [1, 2, 3, 4, 5, 6];
    const tile = (t: tf.Tensor) => tf.stack(scales.map(() => t)).reshape([2, 3, ...t.shape]); // (2, 3, T, d)
    const q4 = tile(q) as tf.Tensor4D;
    const k4 = tile(k) as tf.Tensor4D;
    const v4 = tf.stack(scales.map((s) => tf.mul(v, s))).reshape([2, 3, 3, 2]) as tf.Tensor4D; // (2, 3, 3, 2)
    const { output, weights } = scaledDotProductAttention(q4, k4, v4);
    expect(output.shape).toEqual([2, 3, 3, 2]);
    expect(weights.shape).toEqual([2, 3, 3, 3]);
    const w = take(weights);
    const o = take(output);
    scales.forEach((s, g) => {
      expectClose(w.slice(9 * g, 9 * g + 9), CAUSAL_W, 1e-6);
      // the output is linear in v
      expectClose(o.slice(6 * g, 6 * g + 6), CAUSAL_OUT.map((x) => x * s), 1e-4);
    });
    tf.dispose([q, k, v, q4, k4, v4]);
  });

  it('rejects mismatched shapes with clear messages', () => {
    const [q, k, v] = qkv();
    const q1 = tf.tensor1d([1, 2, 3, 4]); // (4)
    const k3 = tf.tensor3d([K]); // (1, 3, 4)
    const kd = tf.zeros([3, 5]) as tf.Tensor2D; // (3, 5)
    const vs = tf.zeros([2, 2]) as tf.Tensor2D; // (2, 2)
    const qLong = tf.zeros([4, 4]) as tf.Tensor2D; // (4, 4)
    const lead = tf.zeros([2, 3, 4]) as tf.Tensor3D; // (2, 3, 4)
    expect(() => scaledDotProductAttention(q1, q1, q1)).toThrow(/equal rank >= 2.*got ranks 1, 1, 1/);
    expect(() => scaledDotProductAttention<tf.Tensor>(q, k3, v)).toThrow(/equal rank.*got ranks 2, 3, 2/);
    expect(() => scaledDotProductAttention<tf.Tensor>(k3, lead, lead)).toThrow(/leading dims differ/);
    expect(() => scaledDotProductAttention(q, kd, v)).toThrow(/q and k must share d_k.*\[3,4\].*\[3,5\]/);
    expect(() => scaledDotProductAttention(q, k, vs)).toThrow(/k and v must have the same length S/);
    expect(() => scaledDotProductAttention(qLong, k, v)).toThrow(/more queries \(4\) than keys \(3\)/);
    tf.dispose([q, k, v, q1, k3, kd, vs, qLong, lead]);
  });

  it('leaves no tensors behind', () => {
    const [q, k, v] = qkv();
    const before = tf.memory().numTensors;
    const { output, weights } = scaledDotProductAttention(q, k, v);
    tf.dispose([output, weights]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([q, k, v]);
  });
});

describe('Attention (GPT-2 plan: A = G heads, learned positions)', () => {
  const C = 8;
  const NH = 2;
  const HS = C / NH;

  /** Per head h: q = x·W^Q_h + b^Q_h with W^Q_h = c_attn[:, h·hs:(h+1)·hs] (K at +C, V at +2C). */
  function byHand(mha: Attention, x: tf.Tensor2D, b: number, t: number) {
    return tf.tidy(() => {
      const W = mha.qkv.weight; // (C, 3C)
      const bias = mha.qkv.bias!; // (3C)
      const proj = (xb: tf.Tensor2D, col: number) =>
        tf.add(tf.matMul(xb, tf.slice(W, [0, col], [C, HS])), tf.slice(bias, [col], [HS])) as tf.Tensor2D; // (T, hs)
      const outs: tf.Tensor2D[] = [];
      const alphas: tf.Tensor[] = [];
      for (let bi = 0; bi < b; bi++) {
        const xb = tf.slice(x, [bi * t, 0], [t, C]) as tf.Tensor2D; // (T, C)
        const heads: tf.Tensor2D[] = [];
        for (let h = 0; h < NH; h++) {
          const q = proj(xb, h * HS); // (T, hs)
          const k = proj(xb, C + h * HS); // (T, hs)
          const v = proj(xb, 2 * C + h * HS); // (T, hs)
          const { output, weights } = scaledDotProductAttention(q, k, v); // (T, hs), (T, T)
          heads.push(output);
          alphas.push(weights);
        }
        const concat = tf.concat(heads, 1) as tf.Tensor2D; // (T, C) = [head_0 | head_1]
        outs.push(tf.add(tf.matMul(concat, mha.out.weight), mha.out.bias!) as tf.Tensor2D); // (T, C)
      }
      // alphas are in (b, h) order, the layout of (B, nh, T, T)
      return { y: tf.concat(outs, 0), alpha: tf.stack(alphas) }; // (B·T, C), (B·nh, T, T)
    });
  }

  function make(dropout = 0, bias = true): Attention {
    const plan = planLayer(resolveConfig({ vocabSize: 4, nEmbd: C, nHead: NH, nLayer: 1, blockSize: 5, bias, dropout }), 0);
    const mha = new Attention(plan, C, 5, createRng(1));
    // non-zero biases and weights well away from the 0.02 init
    randomizeWeights(mha.weights(), createRng(2), 0.5);
    return mha;
  }

  it('equals per-head attention, concatenated, times W^O plus bias (T < blockSize and T = blockSize)', () => {
    const mha = make();
    for (const [b, t] of [[2, 3], [1, 5]]) {
      const x = tf.tensor2d(normals(createRng(3 + t), b * t * C), [b * t, C]); // (B·T, C)
      let kept: tf.Tensor4D | undefined;
      const y = tf.tidy(() => mha.forward(x, b, t, { training: false, seed: 0, keepWeights: (w: tf.Tensor4D) => (kept = tf.keep(w)) })); // (B·T, C)
      // Without keepWeights the same layer runs the fused kernel straight from the projection.
      const fused = tf.tidy(() => mha.forward(x, b, t, { training: false, seed: 0 })); // (B·T, C)
      const ref = byHand(mha, x, b, t);
      expect(y.shape).toEqual([b * t, C]);
      const want = take(ref.y);
      expectClose(take(y), want, 1e-5);
      expectClose(take(fused), want, 1e-5);
      expect(kept!.shape).toEqual([b, NH, t, t]);
      expectClose(take(kept!), take(ref.alpha), 1e-6);
      x.dispose();
    }
    mha.dispose();
  });

  it('names its weights in GPT-2 order and leaves out biases when bias is false', () => {
    const withBias = make();
    expect(withBias.weights().map(([n, v]) => [n, v.shape])).toEqual([
      ['c_attn.weight', [C, 3 * C]],
      ['c_attn.bias', [3 * C]],
      ['c_proj.weight', [C, C]],
      ['c_proj.bias', [C]],
    ]);
    withBias.dispose();
    const noBias = make(0, false);
    expect(noBias.weights().map(([n]) => n)).toEqual(['c_attn.weight', 'c_proj.weight']);
    noBias.dispose();
  });

  it('applies dropout only in training, reproducibly per seed', () => {
    const mha = make(0.5);
    const x = tf.tensor2d(normals(createRng(9), 4 * C), [4, C]); // (4, C)
    const run = (training: boolean, seed: number) => take(tf.tidy(() => mha.forward(x, 1, 4, { training, seed })));
    const ref = byHand(mha, x, 1, 4);
    expectClose(run(false, 0), take(ref.y), 1e-5); // eval: dropout is the identity
    tf.dispose(ref.alpha);
    const a = run(true, 5);
    expect(run(true, 5)).toEqual(a);
    expect(run(true, 6)).not.toEqual(a);
    x.dispose();
    mha.dispose();
  });

  it('frees its weights and mask on dispose, and leaves nothing behind after forward', () => {
    const before = tf.memory().numTensors;
    const mha = make();
    const x = tf.tensor2d(normals(createRng(4), 3 * C), [3, C]); // (3, C)
    const mid = tf.memory().numTensors;
    tf.tidy(() => mha.forward(x, 1, 3, { training: false, seed: 0 })).dispose();
    expect(tf.memory().numTensors).toBe(mid);
    x.dispose();
    mha.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
