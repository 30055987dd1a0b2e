import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../src/io/safetensors.js';
import type { TensorData } from '../src/io/safetensorsTypes.js';
import { resolveConfig, type GPTConfig } from '../src/config/config.js';
import { canonicalTensors, weightTable } from '../src/config/names.js';
import { fromCanonical } from '../src/io/convert.js';
import { GPT } from '../src/model/gpt.js';
import { rmsNorm } from '../src/ops/rmsNorm.js';
import { createRng } from '../src/util/rng.js';
import { GEMMA_TINY, randomizeModern } from './gemmaFixtures.js';
import { maxRelDiff, randomIds, setVar, take, values } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-gemma-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('a Gemma-style GPT', () => {
  it('names its weights with the canonical (GPT-2) names whatever the layout, with their shapes', () => {
    const model = new GPT(GEMMA_TINY);
    const names = [...model.namedWeights()].map(([n, v]) => `${n} [${v.shape}]`);
    // No wpe (RoPE), no biases; c_attn 8 → (4 + 2·2)·6 = 48 (q 24 | k 12 | v 12), GeGLU 12 per branch.
    expect(names.filter((n) => !/^h\.[12]\./.test(n))).toEqual([
      'wte.weight [11,8]',
      'h.0.ln_1.weight [8]',
      'h.0.attn.c_attn.weight [8,48]',
      'h.0.attn.q_norm.weight [6]',
      'h.0.attn.k_norm.weight [6]',
      'h.0.attn.c_proj.weight [24,8]',
      'h.0.post_attn_norm.weight [8]',
      'h.0.ln_2.weight [8]',
      'h.0.mlp.c_fc.weight [8,12]',
      'h.0.mlp.c_up.weight [8,12]',
      'h.0.mlp.c_proj.weight [12,8]',
      'h.0.post_mlp_norm.weight [8]',
      'ln_f.weight [8]',
    ]);
    expect(names).toHaveLength(1 + 3 * 11 + 1);
    // The name table lists the same tensors with the same shapes: loaders check files against it.
    expect(canonicalTensors(model.config).map((t) => `${t.name} [${t.shape}]`)).toEqual(names);
    model.dispose();
  });

  it('turning on one numerics flag adds its tensors and renames none', () => {
    const base = { vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8, bias: false };
    const plain = [...new GPT(base).namedWeights().keys()];
    const withQk = new GPT({ ...base, qkNorm: true });
    const names = [...withQk.namedWeights().keys()];
    expect(names.filter((n) => !plain.includes(n))).toEqual(['h.0.attn.q_norm.weight', 'h.0.attn.k_norm.weight']);
    expect(plain.every((n) => names.includes(n))).toBe(true);
    // Layers 0 and 1 of GEMMA_TINY are local with window 3, layer 2 global.
    const modern = new GPT(GEMMA_TINY);
    expect(modern.blocks.map((b) => b.plan.window)).toEqual([3, 3, 0]);
    withQk.dispose();
    modern.dispose();
  });

  it('loads a checkpoint saved under the earlier Llama/Gemma names (q_proj, final_norm, ...) with identical logits', async () => {
    const model = new GPT(GEMMA_TINY);
    randomizeModern(model, 8, 0.5);
    const ids = randomIds(createRng(9), 1, 6, 11);
    const canonical = new Map<string, TensorData>();
    for (const [n, v] of model.namedWeights()) canonical.set(n, { shape: v.shape, data: v.dataSync() as Float32Array });
    const c = resolveConfig(GEMMA_TINY);
    const legacy = fromCanonical(c, 'tinygpt-v1', canonical);
    expect([...legacy.keys()].slice(0, 5)).toEqual([
      'wte.weight',
      'h.0.pre_attention_norm.weight',
      'h.0.attn.q_proj.weight',
      'h.0.attn.k_proj.weight',
      'h.0.attn.v_proj.weight',
    ]);
    expect(legacy.get('h.0.attn.k_proj.weight')!.shape).toEqual([8, 12]);
    expect(weightTable(c, 'tinygpt-v1').at(-1)!.stored).toEqual(['final_norm.weight']);
    const dir = join(scratch, 'legacy');
    await model.savePretrained(dir);
    await writeSafetensors(join(dir, 'model.safetensors'), legacy, { format: 'pt' });
    const again = await GPT.fromPretrained(dir);
    expect(take(again.forward(ids))).toEqual(take(model.forward(ids)));
    tf.dispose(ids);
    [model, again].forEach((m) => m.dispose());
  });

  it('hides keys outside the window in local layers and none in global ones', () => {
    const model = new GPT(GEMMA_TINY);
    randomizeModern(model, 1, 0.5);
    const ids = randomIds(createRng(2), 1, 6, 11);
    const { logits, attention } = model.forwardWithAttention(ids);
    const t = 6;
    attention.forEach((a, layer) => {
      const w = values(a); // (1, nh, T, T)
      for (let h = 0; h < 4; h++) {
        for (let i = 0; i < t; i++) {
          for (let j = 0; j < t; j++) {
            const alpha = w[(h * t + i) * t + j];
            const visible = j <= i && (layer === 2 || j > i - 3);
            if (visible) expect(alpha, `layer ${layer} head ${h} (${i}, ${j})`).toBeGreaterThan(0);
            else expect(alpha).toBe(0);
          }
        }
      }
    });
    tf.dispose([ids, logits, ...attention]);
    model.dispose();
  });

  it('with zero post-norm gains is the identity per block: logits = RMSNorm(√d·E[ids])·Eᵀ', () => {
    const before = tf.memory().numTensors;
    const model = new GPT(GEMMA_TINY);
    randomizeModern(model, 3, 0.5);
    for (const [name, v] of model.namedWeights()) if (/post_(attn|mlp)_norm/.test(name)) setVar(v, new Float32Array(v.size));
    const ids = tf.tensor2d([[1, 4, 9]], [1, 3], 'int32');
    const got = take(model.forward(ids));
    const w = model.namedWeights();
    const expected = take(
      tf.tidy(() => {
        const e = tf.mul(tf.gather(model.wte, [1, 4, 9]), Math.sqrt(8)); // (3, 8) scaled embeddings
        const h = rmsNorm(e, w.get('ln_f.weight') as tf.Tensor1D, 1e-6); // (3, 8)
        return tf.matMul(h, model.wte, false, true); // (3, 11)
      }),
    );
    expect(maxRelDiff(got, expected)).toBeLessThan(1e-5);
    ids.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('scales embeddings by √d: same logits as an unscaled model whose table is √d times larger', () => {
    const cfg: GPTConfig = { ...GEMMA_TINY, tieEmbeddings: false };
    const scaled = new GPT(cfg);
    const plain = new GPT({ ...cfg, scaleEmbeddings: false });
    randomizeModern(scaled, 4, 0.5);
    const ws = scaled.namedWeights();
    for (const [name, v] of plain.namedWeights()) {
      const src = values(ws.get(name)!);
      setVar(v, name === 'wte.weight' ? src.map((x) => x * Math.sqrt(8)) : src);
    }
    const ids = randomIds(createRng(5), 2, 5, 11);
    expect(maxRelDiff(take(plain.forward(ids)), take(scaled.forward(ids)))).toBeLessThan(1e-5);
    ids.dispose();
    scaled.dispose();
    plain.dispose();
  });

  it('saves and loads in tinygpt format with identical logits; hf-gpt2 refuses the layout', async () => {
    const model = new GPT(GEMMA_TINY);
    randomizeModern(model, 6, 0.5);
    const ids = randomIds(createRng(7), 1, 7, 11);
    const dir = join(scratch, 'gemma');
    await model.savePretrained(dir);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toMatchObject({ nKvHead: 2, headDim: 6, slidingWindow: 3 });
    const again = await GPT.fromPretrained(dir);
    expect(take(again.forward(ids))).toEqual(take(model.forward(ids)));
    await expect(model.savePretrained(join(scratch, 'hf'), { format: 'hf-gpt2' })).rejects.toThrow(
      /cannot hold a GeGLU model.*save with format "tinygpt"/,
    );
    const llama = new GPT({ ...GEMMA_TINY, activation: 'gelu_tanh' });
    await expect(llama.savePretrained(join(scratch, 'hf2'), { format: 'hf-gpt2' })).rejects.toThrow(/holds GPT-2's architecture only/);
    tf.dispose(ids);
    [model, again, llama].forEach((m) => m.dispose());
  });
});
