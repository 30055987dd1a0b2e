import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { isGpt2Architecture, planLayer } from '../src/config/plan.js';
import type { GPTConfig } from '../src/config/config.js';
import { GPT } from '../src/model/gpt.js';
import { countParams, presetConfig, PRESETS } from '../src/config/presets.js';
import { createRng } from '../src/util/rng.js';

describe('Gemma 3 and Llama presets', () => {
  it('counts Gemma 3 1B at exactly 999,885,952 parameters', () => {
    // embed 262144·1152 = 301,989,888
    // per layer: q 1152·1024 = 1,179,648; k, v 2·1152·256 = 589,824; o 1024·1152 = 1,179,648;
    //   q/k norms 2·256 = 512; 4 norms·1152 = 4,608; FFN 3·1152·6912 = 23,887,872 → 26,842,112
    // 301,989,888 + 26·26,842,112 (= 697,894,912) + final norm 1152 = 999,885,952
    expect(countParams(PRESETS['gemma3-1b'])).toBe(999_885_952);
  });

  it('resolves Gemma 3 1B to its published shape', () => {
    const c = presetConfig('gemma3-1b');
    expect(c).toMatchObject({
      nEmbd: 1152,
      nLayer: 26,
      nHead: 4,
      nKvHead: 1,
      headDim: 256,
      ffnHidden: 6912,
      vocabSize: 262144,
      blockSize: 32768,
      activation: 'geglu',
      norm: 'rmsnorm',
      position: 'rope',
      ropeTheta: 1_000_000,
      ropeLocalTheta: 10_000,
      slidingWindow: 512,
      localGlobalPattern: 5,
      qkNorm: true,
      sandwichNorm: true,
      scaleEmbeddings: true,
      bias: false,
      tieEmbeddings: true,
    });
    // 5 local layers then 1 global: of 26 layers, 4 are global.
    expect(Array.from({ length: 26 }, (_, i) => planLayer(c, i).window > 0).filter((l) => !l)).toHaveLength(4);
  });

  it('sizes the tiny Gemma and Llama models like the GPT-2-style Shakespeare model', () => {
    // shakespeare-char: 65·128 + 64·128 + 4·(2·128 + 4·128² + 2·128·512) + 128
    //   = 8,320 + 8,192 + 4·196,864 + 128 = 804,096
    expect(countParams(PRESETS['shakespeare-char'])).toBe(804_096);
    // gemma3-tiny: per layer q 128·128 + k, v 2·128·32 + o 128·128 + q/k norms 2·32 + 4·128 + GeGLU 3·128·408
    //   = 16,384 + 8,192 + 16,384 + 64 + 512 + 156,672 = 198,208; 8,320 + 4·198,208 + 128 = 801,280 (no position table)
    expect(countParams(PRESETS['gemma3-tiny'])).toBe(801_280);
    // llama-tiny: SwiGLU width ⌈8·128/3/8⌉·8 = 344; per layer 128·128 + 2·128·64 + 128·128 + 2·128 + 3·128·344
    //   = 16,384 + 16,384 + 16,384 + 256 + 132,096 = 181,504; 8,320 + 4·181,504 + 128 = 734,464
    expect(countParams(PRESETS['llama-tiny'])).toBe(734_464);
    expect(presetConfig('llama-tiny')).toMatchObject({ nKvHead: 2, headDim: 32, norm: 'rmsnorm', position: 'rope', bias: false });
  });

  it('counts biases, LayerNorm offsets and an untied head in the general layout', () => {
    // d = 8, 2 heads of h = 6 (q width 12), 1 KV head (kv width 6), H = 10, V = 11, gelu, bias, LayerNorm, learned P = 4:
    // q 8·12 + 12; k, v 2·(8·6 + 6); o 12·8 + 8; 2 LN·(8 + 8); FFN 8·10 + 10 + 10·8 + 8
    //   = 108 + 108 + 104 + 32 + 178 = 530 per layer
    // 11·8 (wte) + 4·8 (wpe) + 2·530 + 16 (ln_f) + 11·8 (head) = 88 + 32 + 1,060 + 16 + 88 = 1,284
    const cfg = { vocabSize: 11, blockSize: 4, nLayer: 2, nEmbd: 8, nHead: 2, nKvHead: 1, headDim: 6, ffnHidden: 10, tieEmbeddings: false };
    expect(countParams(cfg)).toBe(1284);
    // RMSNorm drops β from the 2·2 block norms and ln_f (5·8 = 40), RoPE drops wpe (4·8 = 32): 1,284 − 72 = 1,212
    expect(countParams({ ...cfg, norm: 'rmsnorm', position: 'rope' })).toBe(1212);
  });
});

describe('countParams against built models', () => {
  it('equals numParams() for the small presets', () => {
    for (const name of ['shakespeare-char', 'gemma3-tiny', 'llama-tiny'] as const) {
      const m = new GPT(PRESETS[name]);
      expect(countParams(PRESETS[name]), name).toBe(m.numParams());
      m.dispose();
    }
  });

  it('equals numParams() for 60 seeded combinations of every option', () => {
    const before = tf.memory().numTensors;
    const rng = createRng(2024);
    const pick = <T>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)];
    let modern = 0;
    for (let n = 0; n < 60; n++) {
      const cfg: GPTConfig = {
        vocabSize: 13,
        blockSize: 6,
        nLayer: pick([1, 2, 3]),
        nEmbd: 8,
        nHead: 4,
        nKvHead: pick([1, 2, 4]),
        headDim: pick([undefined, 2, 6]),
        ffnHidden: pick([undefined, 10]),
        activation: pick(['gelu', 'gelu_tanh', 'relu', 'swiglu', 'geglu'] as const),
        norm: pick(['layernorm', 'rmsnorm'] as const),
        position: pick(['learned', 'rope'] as const),
        qkNorm: pick([false, true]),
        sandwichNorm: pick([false, true]),
        scaleEmbeddings: pick([false, true]),
        slidingWindow: pick([0, 2]),
        bias: pick([false, true]),
        tieEmbeddings: pick([false, true]),
      };
      const m = new GPT(cfg);
      expect(countParams(cfg), JSON.stringify(cfg)).toBe(m.numParams());
      if (!isGpt2Architecture(m.config)) modern++;
      m.dispose();
    }
    expect(modern).toBeGreaterThan(50); // nearly every draw leaves GPT-2's layout
    expect(tf.memory().numTensors).toBe(before);
  });
});
