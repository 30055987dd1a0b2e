import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { GPTConfig } from '../src/config/config.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { applyLoRA, loraAdapters, loraWeights, mergeLoRA, removeLoRA } from '../src/train/lora.js';
import { loadLoRA, saveLoRA } from '../src/train/loraFiles.js';
import { GPT } from '../src/model/gpt.js';
import { SFTTrainer } from '../src/train/sft.js';
import type { TokenizedExample } from '../src/train/sftData.js';
import { expectClose, maxDiff, take } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-lora-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const GPT2_TINY: GPTConfig = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, seed: 4 };
/** Llama-style: RMSNorm, RoPE, SwiGLU (gated), grouped-query attention with 2 query heads per KV head. */
const LLAMA_TINY: GPTConfig = {
  vocabSize: 11,
  blockSize: 8,
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
  nEmbd: 16,
  ffnHidden: 24,
  activation: 'swiglu',
  norm: 'rmsnorm',
  position: 'rope',
  bias: false,
  seed: 4,
};

const ids = (): tf.Tensor2D => tf.tensor2d([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 0, 1]], [2, 6], 'int32');

function logits(model: GPT): number[] {
  const x = ids();
  const out = take(model.forward(x));
  x.dispose();
  return out;
}

/** Gives every B a seeded non-zero value, as training would. */
function perturbB(model: GPT): void {
  let k = 0;
  for (const a of loraAdapters(model)) {
    const n = a.loraB.size;
    // tidy: assign shares the new tensor's data, and the temporary itself must still be freed.
    tf.tidy(() => a.loraB.assign(tf.tensor(Float32Array.from({ length: n }, (_, i) => 0.05 * Math.sin(1 + i + 7 * k)), a.loraB.shape)));
    k += 1;
  }
}

describe('applyLoRA', () => {
  it('with B = 0 the logits equal the base model\'s exactly', () => {
    for (const cfg of [GPT2_TINY, LLAMA_TINY]) {
      const model = new GPT(cfg);
      const base = logits(model);
      applyLoRA(model, { rank: 2, alpha: 4, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'up_proj', 'down_proj'] });
      expect(logits(model)).toEqual(base);
      model.dispose();
    }
  });

  it('puts q/k/v adapters on column ranges of the fused c_attn, under PEFT\'s names and shapes', () => {
    const model = new GPT(LLAMA_TINY);
    applyLoRA(model, { rank: 2, alpha: 4, targets: ['q_proj', 'v_proj', 'gate_proj'] });
    // headDim 4: q = 4 heads · 4 = 16 columns [0, 16), k = 2 · 4 = [16, 24), v = [24, 32).
    const cols = loraAdapters(model).filter((a) => a.site.linear === 'h.0.attn.c_attn').map((a) => a.columns);
    expect(cols).toEqual([[0, 16], [24, 32]]);
    const shapes = Object.fromEntries([...loraWeights(model)].map(([n, v]) => [n, v.shape]));
    expect(shapes['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight']).toEqual([2, 16]); // (r, in)
    expect(shapes['base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight']).toEqual([8, 2]); // (out, r)
    expect(shapes['base_model.model.model.layers.1.mlp.gate_proj.lora_B.weight']).toEqual([24, 2]);
    expect(Object.keys(shapes).length).toBe(2 * 3 * 2); // 2 layers × 3 modules × (A, B)
    // Only the v columns move when only v's B is non-zero.
    const lin = model.linears().get('h.0.attn.c_attn')!;
    const x = tf.tensor2d(Float32Array.from({ length: 3 * 16 }, (_, i) => Math.cos(i)), [3, 16]);
    const before = take(lin.forward(x));
    const v = loraAdapters(model)[1];
    tf.tidy(() => v.loraB.assign(tf.onesLike(v.loraB)));
    const after = take(lin.forward(x));
    for (let i = 0; i < after.length; i++) {
      const col = i % 32;
      if (col < 24) expect(after[i]).toBe(before[i]);
    }
    expect(maxDiff(after, before)).toBeGreaterThan(1e-3);
    x.dispose();
    model.dispose();
  });

  it('rejects unknown targets and modules the model lacks, by name', () => {
    const model = new GPT(GPT2_TINY);
    expect(() => applyLoRA(model, { targets: ['qkv'] })).toThrow(/unknown LoRA target "qkv"; choose from q_proj/);
    expect(() => applyLoRA(model, { targets: ['gate_proj'] })).toThrow(/"gate_proj" needs a gated FFN/);
    expect(() => applyLoRA(model, { rank: 0 })).toThrow(/rank must be an integer >= 1/);
    expect(loraAdapters(model)).toEqual([]);
    model.dispose();
  });
});

describe('training and merging', () => {
  it('after SFT steps only adapter tensors changed; merged logits equal unmerged within 1e-5; numTensors flat', async () => {
    const model = new GPT(GPT2_TINY);
    const before = tf.memory().numTensors;
    const base = new Map([...model.namedWeights()].map(([n, v]) => [n, Array.from(v.dataSync())]));
    applyLoRA(model, { rank: 2, alpha: 4, targets: ['c_attn', 'c_proj', 'c_fc'] });
    // GPT-2's c_proj names both projections: 2 layers × (c_attn, attn.c_proj, c_fc, mlp.c_proj).
    expect(loraAdapters(model).length).toBe(8);
    const lw = loraWeights(model);
    const b0 = new Map([...lw].map(([n, v]) => [n, Array.from(v.dataSync())]));
    const data: TokenizedExample[] = [
      { ids: [1, 2, 3, 4, 5], tokenMask: [0, 0, 1, 1, 1] },
      { ids: [6, 7, 8], tokenMask: [0, 1, 1] },
    ];
    const trainer = new SFTTrainer(model, data, { maxIters: 5, lr: 1e-2, batchSize: 2, evalInterval: 5, logInterval: 5 }, { weights: lw });
    const first = (await trainer.evaluate()).evalLoss;
    const last = (await trainer.train())!.evalLoss;
    trainer.dispose();
    expect(last).toBeLessThan(first);
    for (const [n, v] of model.namedWeights()) expect(Array.from(v.dataSync()), n).toEqual(base.get(n));
    const changed = [...lw].filter(([n, v]) => maxDiff(v.dataSync(), b0.get(n)!) > 0).map(([n]) => n);
    expect(changed.some((n) => n.endsWith('lora_B.weight'))).toBe(true);
    const unmerged = logits(model);
    mergeLoRA(model);
    expect(loraAdapters(model)).toEqual([]);
    expectClose(logits(model), unmerged, 1e-5);
    expect(maxDiff(model.namedWeights().get('h.0.attn.c_attn.weight')!.dataSync(), base.get('h.0.attn.c_attn.weight')!)).toBeGreaterThan(0);
    expect([...model.namedWeights().values()].every((v) => v.trainable)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('merging and removing free every adapter tensor (Llama-style, all targets)', () => {
    const model = new GPT(LLAMA_TINY);
    const before = tf.memory().numTensors;
    applyLoRA(model, { rank: 2, alpha: 2, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
    perturbB(model);
    const unmerged = logits(model);
    mergeLoRA(model);
    expectClose(logits(model), unmerged, 1e-5);
    expect(tf.memory().numTensors).toBe(before);
    applyLoRA(model, { rank: 2 });
    removeLoRA(model);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('adapter files', () => {
  it('save as PEFT\'s adapter_model.safetensors + adapter_config.json and load back', async () => {
    for (const [cfg, key] of [
      [GPT2_TINY, 'base_model.model.transformer.h.1.attn.c_attn.lora_B.weight'],
      [LLAMA_TINY, 'base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight'],
    ] as const) {
      const model = new GPT(cfg);
      const targets = cfg === GPT2_TINY ? ['c_attn'] : ['q_proj', 'k_proj', 'v_proj'];
      applyLoRA(model, { rank: 2, alpha: 16, targets, dropout: 0.05 });
      perturbB(model);
      const want = logits(model);
      const dir = join(scratch, cfg === GPT2_TINY ? 'gpt2' : 'llama');
      await saveLoRA(model, dir, { baseModel: 'tiny-base' });
      const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
      expect(config).toMatchObject({
        peft_type: 'LORA',
        task_type: 'CAUSAL_LM',
        r: 2,
        lora_alpha: 16,
        lora_dropout: 0.05,
        target_modules: targets,
        bias: 'none',
        fan_in_fan_out: cfg === GPT2_TINY, // GPT-2's Conv1D
        base_model_name_or_path: 'tiny-base',
      });
      const { tensors } = await readSafetensors(join(dir, 'adapter_model.safetensors'));
      expect(tensors.has(key)).toBe(true);
      // GPT-2: c_attn is (8 → 24); Llama k_proj is 2 KV heads × 4 = 8 wide.
      expect(tensors.get(key)!.shape).toEqual(cfg === GPT2_TINY ? [24, 2] : [8, 2]);
      model.dispose();

      const fresh = new GPT(cfg); // same seed: the same base weights
      await loadLoRA(fresh, dir);
      expect(logits(fresh)).toEqual(want);
      fresh.dispose();
    }
  });

  it('refuses adapters trained for another shape, naming the key, and leaves the model clean', async () => {
    const other = new GPT({ ...GPT2_TINY, nEmbd: 12, nHead: 2 });
    await expect(loadLoRA(other, join(scratch, 'gpt2'))).rejects.toThrow(/lora_A\.weight has shape \[2,8\] but this model needs \[2,12\]/);
    expect(loraAdapters(other)).toEqual([]);
    await expect(loadLoRA(other, join(scratch, 'none'))).rejects.toThrow(/has no adapter_config\.json/);
    other.dispose();
  });
});
