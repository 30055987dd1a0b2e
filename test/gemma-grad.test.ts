import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GPTConfig } from '../src/config/config.js';
import { GPT } from '../src/model/gpt.js';
import { contextStepper } from '../src/sample/context.js';
import { createRng } from '../src/util/rng.js';
import { GEMMA_TINY, LLAMA_TINY, randomizeModern } from './gemmaFixtures.js';
import { lossAndGrads, maxRelDiff, randomIds, referenceLossAndGrads, take, values } from './helpers.js';


function tiny(config: GPTConfig, std = 0.3): GPT {
  const model = new GPT(config);
  randomizeModern(model, 99, std);
  return model;
}

describe('gradients of Llama- and Gemma-style models', () => {
  // ε per case: √d-scaled embeddings and q/k norms curve the Gemma loss, and the O(ε²) error
  // shrinks 4x per halving of ε (measured: 10% at ε = 2e-2, 2.7% at 1e-2, 0.1% at 2e-3 for wte).
  const cases: Array<[string, GPTConfig, number, string[]]> = [
    ['Gemma: GQA, RoPE, q/k norms, sandwich RMSNorms, GeGLU, windows, scaled tied embeddings', GEMMA_TINY, 3e-3, [
      'wte.weight', 'h.0.ln_1.weight', 'h.0.attn.c_attn.weight', 'h.1.attn.c_attn.weight',
      'h.2.attn.c_proj.weight', 'h.0.attn.q_norm.weight', 'h.1.attn.k_norm.weight',
      'h.0.post_attn_norm.weight', 'h.2.ln_2.weight', 'h.0.mlp.c_fc.weight',
      'h.2.mlp.c_up.weight', 'h.1.mlp.c_proj.weight', 'h.1.post_mlp_norm.weight', 'ln_f.weight',
    ]],
    ['Llama: MQA, RoPE, LayerNorm with biases, SwiGLU, untied head', LLAMA_TINY, 1e-2, [
      'h.0.attn.c_attn.bias', 'h.1.attn.c_attn.weight', 'h.1.attn.c_proj.bias',
      'h.0.ln_1.bias', 'h.1.mlp.c_fc.bias', 'ln_f.bias', 'lm_head.weight',
    ]],
  ];

  it.each(cases)('match central finite differences (%s)', (_label, config, eps, names) => {
    const model = tiny(config);
    const rng = createRng(7);
    const ids = randomIds(rng, 2, 6, 11);
    const targets = randomIds(rng, 2, 6, 11);
    const { grads } = lossAndGrads(model, ids, targets);
    const weights = model.namedWeights();
    for (const name of names) {
      const v = weights.get(name)!;
      const g = grads.get(name)!;
      const base = values(v);
      // The 2 largest |∂L/∂w| of each weight, well above float32 noise; of c_attn, the largest of its q, k and v columns each.
      const { nHead: nh, nKvHead: nkv, headDim: hd } = model.config;
      const width = v.shape[v.rank - 1];
      const column = (i: number) => i % width;
      const ranges = name.includes('c_attn') ? [[0, nh * hd], [nh * hd, (nh + nkv) * hd], [(nh + nkv) * hd, width]] : [[0, width]];
      const top = ranges.map(([lo, hi]) =>
        g.map((x, i) => [Math.abs(x), i] as const).filter(([, i]) => column(i) >= lo && column(i) < hi).sort((a, b) => b[0] - a[0]),
      );
      const picks = (top.length === 1 ? top[0].slice(0, 2) : top.map((t) => t[0])).map(([, i]) => i);
      for (const i of picks) {
        const at = (delta: number) => {
          const w = base.slice();
          w[i] += delta;
          tf.tidy(() => v.assign(tf.tensor(w, v.shape)));
          return take(model.loss(ids, targets))[0];
        };
        // (L(w + ε) − L(w − ε)) / 2ε, error O(ε²) plus float32 noise ~1e-7·L/ε ≤ 1e-4
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
        expect(Math.abs(g[i]), name).toBeGreaterThan(3e-5 / eps); // ≥ 30x the noise floor
        expect(Math.abs(fd - g[i]) / Math.abs(g[i]), `${name}[${i}]: fd ${fd} vs grad ${g[i]}`).toBeLessThan(2e-2);
      }
    }
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('gives the plain autograd reference\'s loss and gradients (test/reference/gpt.ts), leaving no tensors', () => {
    const before = tf.memory().numTensors;
    const model = tiny(GEMMA_TINY);
    const rng = createRng(8);
    const ids = randomIds(rng, 2, 8, 11);
    const targets = randomIds(rng, 2, 8, 11);
    const fast = lossAndGrads(model, ids, targets);
    const plain = referenceLossAndGrads(model, ids, targets);
    expect(Math.abs(fast.loss - plain.loss)).toBeLessThan(1e-5);
    for (const [name, g] of fast.grads) expect(maxRelDiff(g, plain.grads.get(name)!), name).toBeLessThan(1e-4);
    // Dropout on (training): a different but finite loss, and still no leaked tensors.
    const dropped = new GPT({ ...GEMMA_TINY, dropout: 0.2 });
    const l = take(dropped.loss(ids, targets, { training: true, seed: 3 }))[0];
    expect(Number.isFinite(l)).toBe(true);
    dropped.dispose();
    tf.dispose([ids, targets]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the KV cache with RoPE, GQA, q/k norms and sliding windows', () => {
  const ids = (() => {
    const rng = createRng(4);
    return Array.from({ length: 24 }, () => rng.nextInt(11));
  })();
  const configs: Array<[string, GPTConfig]> = [
    ['Gemma-style', GEMMA_TINY],
    ['Llama-style', LLAMA_TINY],
    ['learned positions with a window on every layer', { ...GEMMA_TINY, position: 'learned', localGlobalPattern: undefined, slidingWindow: 2 }],
  ];

  it.each(configs)('gives a full pass\'s logits within 1e-5 of their scale at every step, past blockSize (%s)', (_label, config) => {
    const model = tiny(config, 0.5);
    const before = tf.memory().numTensors;
    for (const shift of [1, 3]) {
      const cached = contextStepper(model, shift, true, { fastDecoder: false }); // the tensor KV cache (the Decoder: decoder.test.ts)
      const full = contextStepper(model, shift, false);
      for (let len = 1; len <= ids.length; len++) {
        const a = cached.next(ids.slice(0, len));
        const b = full.next(ids.slice(0, len));
        // Relative to max(1, max|logit|): with fused multiply-adds (relaxed SIMD) the two paths round
        // their dot products differently, and logits reach ~3 here (init std 0.5).
        let diff = 0;
        let scale = 1;
        for (let j = 0; j < a.length; j++) {
          diff = Math.max(diff, Math.abs(a[j] - b[j]));
          scale = Math.max(scale, Math.abs(b[j]));
        }
        expect(diff / scale, `shift ${shift}, length ${len}`).toBeLessThan(1e-5);
      }
      cached.dispose();
      full.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('appends several positions at once across a window boundary: rows equal the full pass', () => {
    const model = tiny(GEMMA_TINY, 0.5);
    const cache = model.createCache();
    const x = tf.tensor2d([ids.slice(0, 8)], [1, 8], 'int32');
    const full = take(model.forward(x)); // (1, 8, 11)
    const parts = [[0, 2], [2, 3], [3, 8]].map(([a, b]) => {
      const chunk = tf.tensor2d([ids.slice(a, b)], [1, b - a], 'int32');
      const y = take(model.forwardCached(chunk, cache));
      chunk.dispose();
      return y;
    });
    expect(cache.length).toBe(8);
    expect(maxRelDiff(parts.flat(), full)).toBeLessThan(1e-5);
    tf.dispose(x);
    cache.dispose();
    model.dispose();
  });
});
