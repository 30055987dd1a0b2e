import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { FeedForward } from '../src/block/feedForward.js';
import { LayerNorm } from '../src/norm/layerNorm.js';
import { Block } from '../src/block/block.js';
import { resolveConfig, type Activation } from '../src/config/config.js';
import { planLayer } from '../src/config/plan.js';
import { createRng } from '../src/util/rng.js';
import { expectClose, normals, randomizeWeights, setVar, take } from './helpers.js';

describe('LayerNorm module', () => {
  it('normalizes each row and applies γ, β (row [1, 2, 3, 4])', () => {
    const ln = new LayerNorm(4);
    setVar(ln.gamma, [1, 2, 0.5, -1]);
    setVar(ln.beta!, [0.1, 0, -0.2, 0.3]);
    const x = tf.tensor2d([[1, 2, 3, 4], [-2, -2, 2, 2]]); // (2, 4)
    // Row 0: μ = 2.5, σ² = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25, x̂ = [−1.5, −0.5, 0.5, 1.5]/√1.25
    //        = [−1.341641, −0.447214, 0.447214, 1.341641] (eps 1e-5 moves the 6th digit)
    //        y = γx̂ + β = [−1.241641, −0.894427, 0.023607, −1.041641]
    // Row 1: μ = 0, σ² = 4, x̂ = [−1, −1, 1, 1] → y = [−1 + 0.1, −2, 0.5 − 0.2, −1 + 0.3] = [−0.9, −2, 0.3, −0.7]
    const y = take(tf.tidy(() => ln.forward(x)));
    expectClose(y, [-1.241641, -0.894427, 0.023607, -1.041641, -0.9, -2, 0.3, -0.7], 2e-5);
    expect(ln.weights().map(([n]) => n)).toEqual(['weight', 'bias']);
    x.dispose();
    ln.dispose();
  });

  it('starts as γ = 1, β = 0 and omits β without bias', () => {
    const ln = new LayerNorm(3, 1e-5, false);
    expect(ln.beta).toBeUndefined();
    expect(ln.weights().map(([n]) => n)).toEqual(['weight']);
    expect(take(ln.gamma.clone())).toEqual([1, 1, 1]);
    const x = tf.tensor2d([[0, 3, 6]]); // (1, 3)
    // μ = 3, σ² = (9 + 0 + 9)/3 = 6 → x̂ = [−3, 0, 3]/√6 = [−1.224745, 0, 1.224745]
    expectClose(take(tf.tidy(() => ln.forward(x))), [-1.224745, 0, 1.224745], 2e-5);
    x.dispose();
    ln.dispose();
  });
});

/**
 * A tiny feed-forward sublayer, C = 2, H = 3, weights set by hand:
 *   W1 = [[1, 0, 1], [0, 1, −1]], b1 = [0, 0.5, −1]; for x = [1, −1]: x·W1 + b1 = [1, −1, 2] + b1 = [1, −0.5, 1]
 *   W2 = [[1, 2], [3, 4], [5, 6]], b2 = [0.1, −0.1]
 *   SwiGLU's up branch V = [[1, 1, 1], [0, 0, 0]], bV = [0, 0, 0.5]: x·V + bV = [1, 1, 1.5]
 */
/** The plan of a layer of width 2 whose FFN has hidden width 3. */
function ffnPlan(activation: Activation, bias: boolean) {
  return planLayer(resolveConfig({ vocabSize: 2, nEmbd: 2, nHead: 1, nLayer: 1, ffnHidden: 3, activation, bias }), 0);
}

function tinyFfn(activation: Activation): FeedForward {
  const ffn = new FeedForward(ffnPlan(activation, true), 2, createRng(0));
  const w = new Map(ffn.weights());
  setVar(w.get('c_fc.weight')!, [1, 0, 1, 0, 1, -1]);
  setVar(w.get('c_fc.bias')!, [0, 0.5, -1]);
  setVar(w.get('c_proj.weight')!, [1, 2, 3, 4, 5, 6]);
  setVar(w.get('c_proj.bias')!, [0.1, -0.1]);
  if (activation === 'swiglu') {
    setVar(w.get('c_up.weight')!, [1, 1, 1, 0, 0, 0]);
    setVar(w.get('c_up.bias')!, [0, 0, 0.5]);
  }
  return ffn;
}

describe('FeedForward', () => {
  // hidden h (3) → y = h·W2 + b2 = [h0 + 3h1 + 5h2 + 0.1, 2h0 + 4h1 + 6h2 − 0.1]
  const cases: Array<[Activation, number[]]> = [
    // relu([1, −0.5, 1]) = [1, 0, 1] → [1 + 5 + 0.1, 2 + 6 − 0.1]
    ['relu', [6.1, 7.9]],
    // gelu: [Φ(1), −0.5·Φ(−0.5), Φ(1)] = [0.841345, −0.154269, 0.841345]
    //   → [6·0.841345 − 3·0.154269 + 0.1, 8·0.841345 − 4·0.154269 − 0.1] = [4.685262, 6.013683]
    ['gelu', [4.685262, 6.013683]],
    // gelu_tanh: [0.841192, −0.154286, 0.841192] → [6·0.841192 − 0.462858 + 0.1, 8·0.841192 − 0.617144 − 0.1]
    ['gelu_tanh', [4.684294, 6.012392]],
    // swiglu: silu([1, −0.5, 1]) ⊙ [1, 1, 1.5] = [0.731059, −0.5·σ(−0.5) = −0.188770, 1.5·0.731059 = 1.096588]
    //   → [0.731059 − 0.566311 + 5.482939 + 0.1, 1.462117 − 0.755081 + 6.579527 − 0.1] = [5.747687, 7.186563]
    ['swiglu', [5.747687, 7.186563]],
  ];

  it.each(cases)('%s matches the hand-computed output', (activation, expected) => {
    const ffn = tinyFfn(activation);
    const x = tf.tensor2d([[1, -1], [0, 0]]); // (2, 2)
    const y = take(tf.tidy(() => ffn.forward(x, false, 0)));
    // Row x = 0 leaves only the biases; for relu, relu(b1) = [0, 0.5, 0] → [0.5·3 + 0.1, 0.5·4 − 0.1].
    expectClose(y.slice(0, 2), expected, 2e-5);
    if (activation === 'relu') expectClose(y.slice(2), [1.6, 1.9], 1e-6);
    x.dispose();
    ffn.dispose();
  });

  it('names its weights c_fc, c_up (SwiGLU only), c_proj', () => {
    const swiglu = tinyFfn('swiglu');
    expect(swiglu.weights().map(([n, v]) => [n, v.shape])).toEqual([
      ['c_fc.weight', [2, 3]],
      ['c_fc.bias', [3]],
      ['c_up.weight', [2, 3]],
      ['c_up.bias', [3]],
      ['c_proj.weight', [3, 2]],
      ['c_proj.bias', [2]],
    ]);
    swiglu.dispose();
    const plain = new FeedForward(ffnPlan('gelu', false), 2, createRng(0));
    expect(plain.weights().map(([n]) => n)).toEqual(['c_fc.weight', 'c_proj.weight']);
    plain.dispose();
  });
});

describe('Block', () => {
  const config = (activation: Activation, bias: boolean) =>
    resolveConfig({ vocabSize: 5, blockSize: 4, nLayer: 2, nHead: 2, nEmbd: 8, activation, bias });
  const makeBlock = (c: ReturnType<typeof resolveConfig>) => new Block(planLayer(c, 0), c.nEmbd, c.blockSize, createRng(1));

  it.each([
    ['gelu', true],
    ['swiglu', false],
  ] as const)('equals t1=LN(x); t2=MHA(t1); t3=t2+x; t4=LN(t3); t5=FFN(t4); h=t5+t3 (%s, bias %s)', (activation, bias) => {
    const block = makeBlock(config(activation, bias));
    randomizeWeights(block.weights(), createRng(2), 0.4);
    const [b, t] = [2, 3];
    const x = tf.tensor2d(normals(createRng(3), b * t * 8), [b * t, 8]); // (B·T, C)
    const call = { training: false, seed: 0 };
    const h = take(tf.tidy(() => block.forward(x, b, t, call))); // (B·T, C)
    const ref = take(
      tf.tidy(() => {
        const t1 = block.ln1.forward(x); // (B·T, C)
        const t2 = block.attn.forward(t1, b, t, call); // (B·T, C)
        const t3 = tf.add(t2, x) as tf.Tensor2D; // (B·T, C)
        const t4 = block.ln2.forward(t3); // (B·T, C)
        const t5 = block.mlp.forward(t4, false, 0); // (B·T, C)
        return tf.add(t5, t3); // (B·T, C)
      }),
    );
    expectClose(h, ref, 1e-5);
    // the residual stream really carries x: h − x is not tiny
    const xs = Array.from(x.dataSync());
    expect(Math.max(...h.map((v, i) => Math.abs(v - xs[i])))).toBeGreaterThan(0.1);
    x.dispose();
    block.dispose();
  });

  it('names its weights ln_1, attn, ln_2, mlp', () => {
    const block = makeBlock(config('gelu', true));
    expect(block.weights().map(([n]) => n)).toEqual([
      'ln_1.weight',
      'ln_1.bias',
      'attn.c_attn.weight',
      'attn.c_attn.bias',
      'attn.c_proj.weight',
      'attn.c_proj.bias',
      'ln_2.weight',
      'ln_2.bias',
      'mlp.c_fc.weight',
      'mlp.c_fc.bias',
      'mlp.c_proj.weight',
      'mlp.c_proj.bias',
    ]);
    block.dispose();
  });

  it('frees every tensor on dispose and leaves nothing after forward', () => {
    const before = tf.memory().numTensors;
    const block = makeBlock(config('gelu_tanh', true));
    const x = tf.tensor2d(normals(createRng(3), 4 * 8), [4, 8]); // (4, C)
    const mid = tf.memory().numTensors;
    tf.tidy(() => block.forward(x, 1, 4, { training: false, seed: 0 })).dispose();
    expect(tf.memory().numTensors).toBe(mid);
    x.dispose();
    block.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
