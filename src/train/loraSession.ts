/**
 * LoRA in a pre-training session (train/session.ts): attach adapters to a fresh or --init-from
 * model, find them again in a checkpoint on resume, and say what the checkpoint and the output
 * folder hold. The checkpoint keeps the frozen base in model.safetensors and the adapters beside
 * it in PEFT's two files, all in one atomic folder; the AdamW moments are the adapters' own.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type { CheckpointInput } from '../io/checkpointTypes.js';
import type { GPT } from '../model/gpt.js';
import type { TensorData } from '../io/safetensorsTypes.js';
import { isGpt2Architecture } from '../config/plan.js';
import { applyLoRA, loraState, loraWeights, type LoRAOptions } from './lora.js';
import { ADAPTER_CONFIG_FILE, loadLoRA } from './loraFiles.js';
import { resolveTargets } from './loraTargets.js';

/** The one-line note a LoRA run prints: adapters, trainable share, and why it runs on one thread. */
function describe(model: GPT, weights: Map<string, tf.Variable>, workers: number | 'auto' | undefined): string {
  let n = 0;
  for (const x of weights.values()) n += x.size;
  const s = loraState(model)!;
  const thread =
    workers !== undefined && workers !== 1
      ? '; workers: 1 (data-parallel replicas hold the base model only, so LoRA trains on this thread)'
      : '';
  return `LoRA: ${s.adapters.length} adapters (rank ${s.rank}, alpha ${s.alpha}, targets ${s.targets.join(',')}), ${n} trainable parameters of ${model.numParams()} (base frozen)${thread}.`;
}

/** Attaches adapters to a model about to train and returns the weights to train (the adapters). */
export function startLoRA(
  model: GPT,
  options: LoRAOptions,
  workers: number | 'auto' | undefined,
  notify: (l: string) => void,
): Map<string, tf.Variable> {
  try {
    applyLoRA(model, options);
  } catch (e) {
    throw new Error(`LoRA: ${(e as Error).message}`, { cause: e });
  }
  const weights = loraWeights(model);
  notify(describe(model, weights, workers));
  return weights;
}

/** Whether options asked for now describe the adapters on the model (the same sites, rank, α and dropout). */
function same(model: GPT, a: LoRAOptions): boolean {
  const s = loraState(model)!;
  const site = (x: { linear: string; columns: readonly [number, number] }): string => `${x.linear}[${x.columns}]`;
  const have = s.adapters.map((x) => site(x.site)).sort();
  const want = a.targets === undefined ? have : resolveTargets(model.config, a.targets).map(site).sort();
  const uniform = s.adapters.every((x) => x.rank === s.rank && x.alpha === s.alpha);
  return (
    uniform &&
    (a.rank ?? 8) === s.rank &&
    (a.alpha ?? 8) === s.alpha &&
    (a.dropout ?? 0) === s.dropout &&
    JSON.stringify(have) === JSON.stringify(want)
  );
}

/**
 * On resume: loads the checkpoint's adapters (when it has them) onto `model` and returns the
 * weights to train, or undefined for a run that trains every weight. LoRA settings asked for now
 * must be the checkpoint's: the adapters' shapes and the moments depend on them.
 */
export async function resumeLoRA(
  model: GPT,
  ckptDir: string,
  asked: LoRAOptions | undefined,
  workers: number | 'auto' | undefined,
  notify: (l: string) => void,
): Promise<Map<string, tf.Variable> | undefined> {
  if (!existsSync(path.join(ckptDir, ADAPTER_CONFIG_FILE))) {
    if (asked !== undefined) {
      throw new Error(
        `--resume of ${ckptDir}: that run trains every weight, so LoRA cannot start mid-run; drop the --lora-* flags, ` +
          `or fine-tune it with LoRA as a new run (--init-from ${path.dirname(ckptDir)} --out ANOTHER_DIR).`,
      );
    }
    return undefined;
  }
  await loadLoRA(model, ckptDir);
  const s = loraState(model)!;
  if (asked !== undefined && !same(model, asked)) {
    throw new Error(
      `--resume of ${ckptDir}: the run's LoRA is rank ${s.rank}, alpha ${s.alpha}, dropout ${s.dropout}, targets ${s.targets.join(',')}; ` +
        'the --lora-* flags ask for others. Drop them to resume (the settings come from the checkpoint).',
    );
  }
  const weights = loraWeights(model);
  notify(describe(model, weights, workers));
  return weights;
}

/**
 * The adapters for saveCheckpoint when the model has adapters: one entry per adapter, unfused (q, k
 * and v slices of GPT-2's c_attn keep their own q_proj/k_proj/v_proj keys), so a resumed run gets
 * back exactly the adapters, and AdamW moments, it saved. The PEFT copy in <out> is fused.
 */
export function checkpointAdapters(model: GPT, baseModel: string | undefined): CheckpointInput['adapters'] {
  const s = loraState(model);
  if (s === null) return undefined;
  const weights = new Map<string, TensorData>();
  for (const [name, v] of loraWeights(model)) weights.set(name, { shape: [...v.shape], data: Float32Array.from(v.dataSync()) });
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel ?? null,
    inference_mode: false,
    r: s.rank,
    lora_alpha: s.alpha,
    lora_dropout: s.dropout,
    target_modules: [...new Set(s.adapters.map((a) => a.site.peftModule.slice(a.site.peftModule.lastIndexOf('.') + 1)))],
    fan_in_fan_out: isGpt2Architecture(model.config),
    bias: 'none',
    rank_pattern: {},
    alpha_pattern: {},
  };
  return { weights, config };
}
