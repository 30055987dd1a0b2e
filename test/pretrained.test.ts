import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Decoder } from '../src/decode/decoder.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { GPT } from '../src/model/gpt.js';
import { countParams, presetConfig, PRESETS } from '../src/config/presets.js';
import { loadWeightsInto } from '../src/pretrained/pretrained.js';
import { fromHFConfig } from '../src/pretrained/hfGpt2Config.js';

// A GPT-2-layout model with random weights (biases and LayerNorm gains off their defaults), its
// logits for a fixed batch computed in float64 by bench/reference/make_gpt2_fixture.py (PyTorch).
const FIXTURE = join(import.meta.dirname, 'fixtures', 'gpt2-tiny');
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as {
  input_ids: number[][];
  logits: number[][][];
  argmax: number[][];
};
const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-pretrained-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function logitsOf(model: GPT, ids: number[][]): Promise<number[][][]> {
  const x = tf.tensor2d(ids, undefined, 'int32');
  const y = model.forward(x);
  const out = (await y.array()) as number[][][];
  x.dispose();
  y.dispose();
  return out;
}

function maxAbsDiff(a: number[][][], b: number[][][]): number {
  let m = 0;
  a.forEach((r, i) => r.forEach((c, j) => c.forEach((v, k) => (m = Math.max(m, Math.abs(v - b[i][j][k]))))));
  return m;
}

const argmaxOf = (logits: number[][][]) => logits.map((r) => r.map((c) => c.indexOf(Math.max(...c))));

describe('GPT.fromPretrained on a Hugging Face GPT-2 folder', () => {
  it('reproduces PyTorch logits within 1e-4 and the same greedy tokens', async () => {
    const before = tf.memory().numTensors;
    const model = await GPT.fromPretrained(FIXTURE);
    expect(model.config).toMatchObject({ nLayer: 2, nHead: 2, nEmbd: 16, vocabSize: 50, blockSize: 16, activation: 'gelu_tanh' });
    const logits = await logitsOf(model, expected.input_ids);
    expect(maxAbsDiff(logits, expected.logits)).toBeLessThanOrEqual(1e-4);
    expect(argmaxOf(logits)).toEqual(expected.argmax);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('steps the tensor-free Decoder through the prompt, one token at a time, to PyTorch logits within 1e-4', async () => {
    const model = await GPT.fromPretrained(FIXTURE);
    const decoder = new Decoder(model);
    expected.input_ids.forEach((row, b) => {
      decoder.reset();
      row.forEach((id, t) => {
        const logits = decoder.feed([id]); // position t sees ids 0..t through the KV cache
        expect(maxAbsDiff([[Array.from(logits)]], [[expected.logits[b][t]]])).toBeLessThanOrEqual(1e-4);
      });
    });
    decoder.dispose();
    model.dispose();
  });

  it('round-trips through savePretrained in both formats with identical logits', async () => {
    const model = await GPT.fromPretrained(FIXTURE);
    const reference = await logitsOf(model, expected.input_ids);
    for (const format of ['hf-gpt2', 'tinygpt'] as const) {
      const dir = join(scratch, format);
      await model.savePretrained(dir, { format });
      const again = await GPT.fromPretrained(dir);
      expect(maxAbsDiff(await logitsOf(again, expected.input_ids), reference)).toBe(0);
      again.dispose();
    }
    // The HF folder uses GPT-2's config keys, which HF's loader and nanoGPT's read.
    const hf = JSON.parse(readFileSync(join(scratch, 'hf-gpt2', 'config.json'), 'utf8'));
    expect(hf).toMatchObject({ model_type: 'gpt2', n_layer: 2, n_head: 2, n_embd: 16, n_positions: 16, activation_function: 'gelu_new' });
    model.dispose();
  });

  it('accepts names without the "transformer." prefix and skips the causal-mask buffers', async () => {
    const parsed = parseSafetensors(readFileSync(join(FIXTURE, 'model.safetensors')));
    expect([...parsed.tensors.keys()].some((k) => k.endsWith('.attn.bias'))).toBe(true);
    const stripped = new Map([...parsed.tensors].map(([k, v]) => [k.replace(/^transformer\./, ''), v]));
    const model = new GPT(fromHFConfig(JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8'))));
    loadWeightsInto(model, stripped);
    expect(maxAbsDiff(await logitsOf(model, expected.input_ids), expected.logits)).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });

  it('names what is missing or misshapen when weights do not fit the config', async () => {
    const parsed = parseSafetensors(readFileSync(join(FIXTURE, 'model.safetensors')));
    const model = new GPT(fromHFConfig(JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8'))));
    const missing = new Map(parsed.tensors);
    missing.delete('transformer.h.1.mlp.c_fc.weight');
    expect(() => loadWeightsInto(model, missing)).toThrow(/missing h\.1\.mlp\.c_fc\.weight/);
    const wrong = new Map(parsed.tensors);
    wrong.set('transformer.wpe.weight', { dtype: 'F32', shape: [8, 16], data: new Float32Array(128) });
    expect(() => loadWeightsInto(model, wrong)).toThrow(/wrong shape wpe\.weight: file \[8,16\] vs model \[16,16\]/);
    model.dispose();
    // A file in a folder without config.json is named as such.
    await expect(GPT.fromPretrained(scratch)).rejects.toThrow(/config\.json is missing/);
  });
});

describe('presets and countParams', () => {
  it('counts GPT-2 small at exactly 124,439,808 parameters', () => {
    // V·C + P·C + 12·(2·2C + C·3C + 3C + C·C + C + C·4C + 4C + 4C·C + C) + 2C with V=50257, P=1024, C=768:
    // 38,597,376 + 786,432 + 12·7,087,872 + 1,536 = 124,439,808
    expect(countParams(PRESETS.gpt2)).toBe(124_439_808);
    expect(presetConfig('gpt2')).toMatchObject({ nLayer: 12, nHead: 12, nEmbd: 768, blockSize: 1024, activation: 'gelu_tanh' });
    expect(countParams(PRESETS['gpt2-medium'])).toBe(354_823_168);
    expect(countParams(PRESETS['gpt2-large'])).toBe(774_030_080);
    expect(countParams(PRESETS['gpt2-xl'])).toBe(1_557_611_200);
  });

  it('equals numParams() of a built model for every FFN and bias choice', () => {
    for (const activation of ['gelu', 'swiglu'] as const) {
      for (const bias of [true, false]) {
        for (const tieEmbeddings of [true, false]) {
          const cfg = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, activation, bias, tieEmbeddings };
          const m = new GPT(cfg);
          expect(countParams(cfg)).toBe(m.numParams());
          m.dispose();
        }
      }
    }
  });

  it('rejects an unknown preset by name', () => {
    expect(() => presetConfig('gpt5' as 'gpt2')).toThrow(/Unknown preset "gpt5": use one of gpt2/);
  });
});
