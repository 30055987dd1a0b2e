import * as tf from '@tensorflow/tfjs-core';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig, type GPTConfig } from '../src/config/config.js';
import { presetConfig } from '../src/config/presets.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import { GPT } from '../src/model/gpt.js';
import { fromHFLlamaConfig, toHFLlamaConfig } from '../src/pretrained/hfLlamaConfig.js';
import { canonicalTensors } from '../src/config/names.js';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
const configOf = (name: string) => JSON.parse(readFileSync(join(fixture(name), 'config.json'), 'utf8')) as Record<string, unknown>;
const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-validate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('canonicalTensors (the shapes a config promises, which loaders check before building the model)', () => {
  it('lists exactly the names, order and shapes of GPT.namedWeights() for every layout', () => {
    const configs: GPTConfig[] = [
      { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8 },
      { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, bias: false, activation: 'swiglu', tieEmbeddings: false },
      { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, norm: 'rmsnorm', position: 'rope', activation: 'swiglu', nKvHead: 1, bias: false },
      { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, norm: 'layernorm', position: 'learned', nKvHead: 1, activation: 'gelu', bias: true },
      { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 4, nEmbd: 8, headDim: 4, norm: 'rmsnorm', position: 'rope', activation: 'geglu', qkNorm: true, sandwichNorm: true, scaleEmbeddings: true, slidingWindow: 2, localGlobalPattern: 1, tieEmbeddings: false, bias: true },
    ];
    for (const c of configs) {
      const model = new GPT(c);
      const built = [...model.namedWeights()].map(([n, v]) => [n, v.shape]);
      expect(canonicalTensors(resolveConfig(c)).map((t) => [t.name, t.shape])).toEqual(built);
      model.dispose();
    }
  });
});

describe('Hugging Face Llama / Gemma 3 config.json → GPTConfig', () => {
  it('maps every field of the fixtures', () => {
    expect(fromHFLlamaConfig(configOf('llama-tiny')).config).toMatchObject({
      vocabSize: 259, blockSize: 64, nLayer: 2, nHead: 4, nKvHead: 2, headDim: 8, nEmbd: 32, ffnHidden: 64,
      activation: 'swiglu', norm: 'rmsnorm', position: 'rope', ropeTheta: 10000, layerNormEps: 1e-5,
      bias: false, tieEmbeddings: false, qkNorm: false, sandwichNorm: false, scaleEmbeddings: false, slidingWindow: 0,
    });
    // layer_types S S F S: one global layer after every two local ones (tinygpt's localGlobalPattern 2).
    expect(fromHFLlamaConfig(configOf('gemma3-tiny'))).toMatchObject({
      family: 'gemma3',
      config: {
        vocabSize: 259, blockSize: 64, nLayer: 4, nHead: 4, nKvHead: 2, headDim: 16, nEmbd: 32, ffnHidden: 48,
        activation: 'geglu', ropeTheta: 1_000_000, ropeLocalTheta: 10_000, layerNormEps: 1e-6, tieEmbeddings: true,
        qkNorm: true, sandwichNorm: true, scaleEmbeddings: true, slidingWindow: 4, localGlobalPattern: 2,
      },
    });
    // Without layer_types, HF's sliding_window_pattern 6 (Gemma 3 1B's 26 layers: 5 local, 1 global).
    const { layer_types: _, ...rest } = configOf('gemma3-tiny');
    expect(fromHFLlamaConfig({ ...rest, num_hidden_layers: 26, sliding_window_pattern: 6 }).config.localGlobalPattern).toBe(5);
  });

  it('refuses every field it cannot honour, naming it', () => {
    const llama = configOf('llama-tiny');
    const gemma = configOf('gemma3-tiny');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...llama, rope_scaling: { rope_type: 'llama3', factor: 8 } }, /"rope_scaling\.rope_type" is "llama3"; tinygpt implements RoPE scaling of type "linear" only/],
      [{ ...llama, rope_scaling: { type: 'yarn', factor: 4 } }, /"rope_scaling\.rope_type" is "yarn"/],
      [{ ...llama, hidden_act: 'gelu' }, /"hidden_act" is "gelu"; tinygpt runs Llama with SiLU/],
      [{ ...llama, attention_bias: true }, /"mlp_bias" is false: differs from attention_bias/],
      [{ ...gemma, attn_logit_softcapping: 50 }, /"attn_logit_softcapping" is 50: attention logit softcapping is not implemented/],
      [{ ...gemma, final_logit_softcapping: 30 }, /"final_logit_softcapping" is 30: final logit softcapping is not implemented/],
      [{ ...gemma, layer_types: ['sliding_attention', 'full_attention', 'full_attention', 'sliding_attention'] }, /"layer_types" is SFFS/],
      [{ ...gemma, use_bidirectional_attention: true }, /"use_bidirectional_attention" is true/],
      [{ ...gemma, attention_bias: true }, /"attention_bias" is true, but Gemma's MLP has no biases/],
      [{ ...llama, hidden_size: 2 ** 30 }, /"hidden_size" is 1073741824, above the sane bound 65536/],
      [{ ...llama, num_hidden_layers: 2.5 }, /"num_hidden_layers" must be a positive integer, got 2\.5/],
      [{ ...llama, num_key_value_heads: 3 }, /"num_key_value_heads" \(3\) must divide num_attention_heads \(4\)/],
      [{ model_type: 'gemma3' }, /"text_config" must be an object for model_type "gemma3"/],
    ];
    for (const [json, msg] of cases) expect(() => fromHFLlamaConfig(json, 'cfg.json')).toThrow(msg);
  });

  it('maps query_pre_attn_scalar and linear rope_scaling to attnScale and ropeScale, and writes them back', () => {
    const gemma = configOf('gemma3-tiny');
    // Scores scaled by 64^(-1/2) = 1/8 instead of 1/√16; global positions divided by 8.
    const { config } = fromHFLlamaConfig({ ...gemma, query_pre_attn_scalar: 64, rope_scaling: { rope_type: 'linear', factor: 8 } });
    expect(config).toMatchObject({ attnScale: 0.125, ropeScale: 8 });
    expect(toHFLlamaConfig(config).json).toMatchObject({ query_pre_attn_scalar: 64, rope_scaling: { rope_type: 'linear', factor: 8 } });
    // transformers 5's rope_parameters, per layer kind for Gemma 3.
    const v5 = fromHFLlamaConfig({ ...gemma, rope_parameters: { full_attention: { rope_type: 'linear', rope_theta: 5e5, factor: 4 }, sliding_attention: { rope_type: 'default', rope_theta: 2e4 } } }).config;
    expect(v5).toMatchObject({ ropeTheta: 5e5, ropeLocalTheta: 2e4, ropeScale: 4 });
    expect(fromHFLlamaConfig(gemma).config.attnScale).toBe(1 / Math.sqrt(16));
  });
});

describe('a config.json that lies about its weights fails before anything is allocated', () => {
  async function lyingFolder(weightsFrom: string, config: Record<string, unknown>, name: string): Promise<string> {
    const dir = join(scratch, name);
    cpSync(weightsFrom, dir, { recursive: true });
    const text = JSON.stringify(config);
    writeFileSync(join(dir, 'config.json'), text);
    return dir;
  }

  /** The load fails with `msg`, and tf.profile saw no tensor made on the way (the model was never built). */
  async function expectRefused(dir: string, msg: RegExp): Promise<void> {
    let error: unknown;
    const info = await tf.profile(async () => {
      try {
        (await GPT.fromPretrained(dir)).dispose();
      } catch (e) {
        error = e;
      }
    });
    expect(String(error)).toMatch(msg);
    expect([info.newTensors, Math.max(0, info.peakBytes)]).toEqual([0, 0]); // peakBytes is -Infinity when nothing was allocated
  }

  it('names the GPT-2 field (a 100-byte config.json claiming n_embd 4096 next to n_embd-16 weights)', async () => {
    const cfg = { model_type: 'gpt2', vocab_size: 50, n_positions: 16, n_embd: 4096, n_layer: 2, n_head: 2 };
    expect(JSON.stringify(cfg).length).toBeLessThanOrEqual(100);
    const dir = await lyingFolder(fixture('gpt2-tiny'), cfg, 'gpt2-lie');
    await expectRefused(dir, /config\.json: "n_embd" is 4096 but the weights have 16 \(transformer\.wte\.weight is \[50, 16\] in .*model\.safetensors\)/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, n_embd: 16, n_layer: 200 }));
    await expectRefused(dir, /"n_layer" is 200 but .*model\.safetensors holds 2 layers/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, n_embd: 16, n_positions: 1e7 }));
    await expectRefused(dir, /"n_positions" is 10000000, above the sane bound 1048576/);
  });

  it('names the Llama / Gemma field', async () => {
    const dir = await lyingFolder(fixture('llama-tiny'), { ...configOf('llama-tiny'), hidden_size: 4096, num_attention_heads: 32, head_dim: 128 }, 'llama-lie');
    await expectRefused(dir, /"hidden_size" is 4096 but the weights have 32 \(model\.embed_tokens\.weight is \[259, 32\]/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...configOf('llama-tiny'), intermediate_size: 11008 }));
    await expectRefused(dir, /"intermediate_size" is 11008 but the weights have 64/);
    const g = await lyingFolder(fixture('gemma3-tiny'), { ...configOf('gemma3-tiny'), num_key_value_heads: 4 }, 'gemma-lie');
    await expectRefused(g, /"num_key_value_heads × head_dim" is 64 but the weights have 32/);
  });

  it('names the tinygpt field and the bad dtype', async () => {
    const model = new GPT(presetConfig('llama-tiny', { nLayer: 1, nEmbd: 16, nHead: 2, nKvHead: 1 }));
    const dir = join(scratch, 'tinygpt-lie');
    await model.savePretrained(dir);
    model.dispose();
    const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...saved, vocabSize: 50_000 }));
    await expectRefused(dir, /"vocabSize" is 50000 but the weights have 65/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...saved, blockSize: 1e9 }));
    await expectRefused(dir, /"blockSize" is 1000000000, above the sane bound/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...saved, ffnHidden: 8 }));
    await expectRefused(dir, /"ffnHidden" is 8 but the weights have 48/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(saved));
    const weights = parseSafetensors(readFileSync(join(dir, 'model.safetensors'))).tensors;
    const t = weights.get('ln_f.weight')!;
    weights.set('ln_f.weight', { ...t, data: new Int32Array(t.data.length) });
    writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(weights));
    await expectRefused(dir, /does not fit .*config\.json: wrong ln_f\.weight: dtype I32, expected F32, F16 or BF16/);
  });
});
