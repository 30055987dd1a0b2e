import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { GPTConfig } from '../src/config/config.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { GPT } from '../src/model/gpt.js';
import { applyLoRA, loraAdapters, loraWeights } from '../src/train/lora.js';
import { loadLoRA, loraFileContents, saveLoRA } from '../src/train/loraFiles.js';
import { expectClose, maxDiff, take } from './helpers.js';

// PEFT compatibility of q/k/v adapters on GPT-2 layouts, whose Hugging Face model has one fused
// c_attn Conv1D and no q_proj/k_proj/v_proj.
const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-lora-peft-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** nEmbd 8: c_attn is 8 → 24 = [q 0..8 | k 8..16 | v 16..24]. */
const GPT2_TINY: GPTConfig = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, seed: 4 };

function logits(model: GPT): number[] {
  const x = tf.tensor2d(
    [
      [1, 2, 3, 4, 5, 6],
      [7, 8, 9, 10, 0, 1],
    ],
    [2, 6],
    'int32',
  );
  const out = take(model.forward(x));
  x.dispose();
  return out;
}

/** Seeded non-zero B everywhere (and A as drawn), as after training. */
function perturbB(model: GPT): void {
  loraAdapters(model).forEach((a, k) => {
    const n = a.loraB.size;
    tf.tidy(() =>
      a.loraB.assign(
        tf.tensor(
          Float32Array.from({ length: n }, (_, i) => 0.1 * Math.sin(1 + i + 7 * k)),
          a.loraB.shape,
        ),
      ),
    );
  });
}

const json = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));

describe('GPT-2 q/k/v adapters as one PEFT c_attn adapter', () => {
  it('saves A = [A_q; A_k; A_v], B = blockdiag(B_q, B_k, B_v), r = 3r, lora_alpha = 3α, and loads back to the same logits', async () => {
    const before = tf.memory().numTensors;
    const model = new GPT(GPT2_TINY);
    applyLoRA(model, { rank: 2, alpha: 4, targets: ['q_proj', 'k_proj', 'v_proj'] });
    perturbB(model);
    const want = logits(model);
    const dir = join(scratch, 'qkv');
    await saveLoRA(model, dir, { baseModel: 'gpt2' });
    const { tensors } = await readSafetensors(join(dir, 'adapter_model.safetensors'));
    // Only c_attn keys, as PEFT names them on Hugging Face GPT-2.
    expect([...tensors.keys()].sort()).toEqual(
      [0, 1].flatMap((l) => ['A', 'B'].map((f) => `base_model.model.transformer.h.${l}.attn.c_attn.lora_${f}.weight`)),
    );
    const [q, k, v] = loraAdapters(model).filter((a) => a.site.linear === 'h.0.attn.c_attn');
    const A = tensors.get('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight')!;
    const B = tensors.get('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')!;
    expect(A.shape).toEqual([6, 8]); // (3r, in)
    expect(B.shape).toEqual([24, 6]); // (3·d, 3r)
    // Rows 0-1 of A are A_q, rows 2-3 A_k, rows 4-5 A_v.
    expect(Array.from(A.data)).toEqual([...q.loraA.dataSync(), ...k.loraA.dataSync(), ...v.loraA.dataSync()]);
    // B's block (rows 8i..8i+8, columns 2i..2i+2) is B of q, k, v; every other entry is 0.
    [q, k, v].forEach((a, i) => {
      const b = a.loraB.dataSync(); // (8, 2)
      for (let row = 0; row < 24; row++) {
        for (let col = 0; col < 6; col++) {
          const inBlock = Math.floor(row / 8) === i && Math.floor(col / 2) === i;
          if (Math.floor(col / 2) === i) expect(B.data[row * 6 + col]).toBe(inBlock ? b[(row - 8 * i) * 2 + (col - 2 * i)] : 0);
        }
      }
    });
    // Every module is the fused c_attn, so r and lora_alpha say so globally; α/r = 12/6 = 4/2.
    expect(json(dir)).toEqual({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      auto_mapping: null,
      base_model_name_or_path: 'gpt2',
      revision: null,
      inference_mode: true,
      r: 6,
      target_modules: ['c_attn'],
      lora_alpha: 12,
      lora_dropout: 0,
      fan_in_fan_out: true,
      bias: 'none',
      use_rslora: false,
      modules_to_save: null,
      init_lora_weights: true,
      layers_to_transform: null,
      layers_pattern: null,
      rank_pattern: {},
      alpha_pattern: {},
      use_dora: false,
    });

    // PEFT's forward of that file, written out by hand for layer 0's c_attn:
    // y = x·W + b + (lora_alpha / r) · x·Aᵀ·Bᵀ, W (8, 24) stored (in, out) as GPT-2's Conv1D.
    const lin = model.linears().get('h.0.attn.c_attn')!;
    const xs = Float32Array.from({ length: 3 * 8 }, (_, i) => Math.cos(0.7 * i));
    const W = lin.weight.dataSync();
    const bias = lin.bias!.dataSync();
    const peft: number[] = [];
    for (let n = 0; n < 3; n++) {
      for (let o = 0; o < 24; o++) {
        let y = bias[o];
        for (let i = 0; i < 8; i++) y += xs[n * 8 + i] * W[i * 24 + o];
        for (let r = 0; r < 6; r++) {
          let xa = 0;
          for (let i = 0; i < 8; i++) xa += xs[n * 8 + i] * A.data[r * 8 + i];
          y += (12 / 6) * xa * B.data[o * 6 + r];
        }
        peft.push(y);
      }
    }
    // tidy: Linear.forward leaves its per-adapter sums to the caller's tidy, as the model's forward does.
    expectClose(
      tf.tidy(() => Array.from(lin.forward(tf.tensor2d(xs, [3, 8])).dataSync())),
      peft,
      1e-5,
    );
    model.dispose();

    const fresh = new GPT(GPT2_TINY); // same seed: the same base
    await loadLoRA(fresh, dir);
    expect(loraAdapters(fresh).map((a) => [a.site.peftModule, a.rank, a.alpha, a.columns])).toEqual([
      ['transformer.h.0.attn.c_attn', 6, 12, [0, 24]],
      ['transformer.h.1.attn.c_attn', 6, 12, [0, 24]],
    ]);
    expect(maxDiff(logits(fresh), want)).toBeLessThan(1e-6);
    fresh.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('mixed targets: the fused c_attn gets rank_pattern / alpha_pattern, other modules keep r and α; k rows of B stay 0', async () => {
    const model = new GPT(GPT2_TINY);
    applyLoRA(model, { rank: 2, alpha: 8, targets: ['q_proj', 'v_proj', 'c_fc'], dropout: 0.1 });
    perturbB(model);
    const want = logits(model);
    const dir = join(scratch, 'mixed');
    await saveLoRA(model, dir);
    const cfg = json(dir);
    expect(cfg).toMatchObject({
      r: 2,
      lora_alpha: 8,
      lora_dropout: 0.1,
      rank_pattern: { c_attn: 4 },
      alpha_pattern: { c_attn: 16 },
      target_modules: ['c_attn', 'c_fc'],
    });
    const { tensors } = await readSafetensors(join(dir, 'adapter_model.safetensors'));
    const B = tensors.get('base_model.model.transformer.h.1.attn.c_attn.lora_B.weight')!;
    expect(B.shape).toEqual([24, 4]);
    expect(Array.from(B.data.slice(8 * 4, 16 * 4)).every((b) => b === 0)).toBe(true); // k's rows: no k adapter
    expect(tensors.get('base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight')!.shape).toEqual([32, 2]);
    model.dispose();
    const fresh = new GPT(GPT2_TINY);
    await loadLoRA(fresh, dir);
    expect(loraAdapters(fresh).map((a) => [a.site.target, a.rank, a.alpha])).toEqual([
      ['c_attn', 4, 16],
      ['c_fc', 2, 8],
      ['c_attn', 4, 16],
      ['c_fc', 2, 8],
    ]);
    expect(maxDiff(logits(fresh), want)).toBeLessThan(1e-6);
    // Saved again, the loaded adapters write the same file.
    const again = join(scratch, 'mixed-again');
    await saveLoRA(fresh, again);
    expect(json(again)).toEqual(cfg);
    fresh.dispose();
  });

  it('target_modules names exactly the adapted modules: GPT-2 o_proj is attn.c_proj, not mlp.c_proj too', async () => {
    const model = new GPT(GPT2_TINY);
    applyLoRA(model, { rank: 2, targets: ['o_proj'] });
    expect(loraFileContents(model).config.target_modules).toEqual(['attn.c_proj']);
    model.dispose();
    const both = new GPT(GPT2_TINY);
    applyLoRA(both, { rank: 2, targets: ['c_proj', 'c_attn'] });
    expect(loraFileContents(both).config.target_modules).toEqual(['c_attn', 'c_proj']);
    both.dispose();
  });

  it('unfused files (fuse: false, and the q_proj files of earlier versions) restore the very adapters and weight names', async () => {
    const model = new GPT(GPT2_TINY);
    applyLoRA(model, { rank: 2, alpha: 4, targets: ['v_proj', 'q_proj'] });
    perturbB(model);
    const names = [...loraWeights(model).keys()];
    const values = [...loraWeights(model).values()].map((w) => Array.from(w.dataSync()));
    const dir = join(scratch, 'unfused');
    const { weights, config } = loraFileContents(model, { fuse: false });
    expect([...weights.keys()].some((k) => k.includes('attn.q_proj.lora_A'))).toBe(true);
    await writeSafetensors(join(dir, 'adapter_model.safetensors'), weights);
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config));
    model.dispose();
    const fresh = new GPT(GPT2_TINY);
    await loadLoRA(fresh, dir);
    // q before v on each layer, whatever the order of the targets or of the file's keys.
    expect([...loraWeights(fresh).keys()]).toEqual(names);
    expect([...loraWeights(fresh).values()].map((w) => Array.from(w.dataSync()))).toEqual(values);
    expect(names[0]).toBe('base_model.model.transformer.h.0.attn.q_proj.lora_A.weight');
    fresh.dispose();
  });

  it('refuses files it would load wrongly, naming the field or key', async () => {
    const model = new GPT(GPT2_TINY);
    applyLoRA(model, { rank: 2, alpha: 4, targets: ['q_proj', 'k_proj', 'v_proj'] });
    const dir = join(scratch, 'bad');
    await saveLoRA(model, dir);
    model.dispose();
    const cfg = json(dir);
    const fresh = new GPT(GPT2_TINY);
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, r: 2 }));
    await expect(loadLoRA(fresh, dir)).rejects.toThrow(
      /c_attn\.lora_A\.weight has rank 6 but the config gives transformer\.h\.0\.attn\.c_attn rank 2/,
    );
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, use_dora: true }));
    await expect(loadLoRA(fresh, dir)).rejects.toThrow(/"use_dora" is true; tinygpt loads plain LoRA adapters only/);
    expect(loraAdapters(fresh)).toEqual([]);
    expect([...fresh.namedWeights().values()].every((w) => w.trainable)).toBe(true);
    fresh.dispose();
  });
});
