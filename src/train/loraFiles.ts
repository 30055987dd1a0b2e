import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { readJsonObject, toJsonText } from '../io/jsonFile.js';
import { readSafetensors, writeSafetensors, type TensorData } from '../io/safetensors.js';
import { isGpt2Architecture } from '../config/plan.js';
import type { GPT } from '../model/gpt.js';
import { attachLoRA, loraState, removeLoRA } from './lora.js';
import { peftModules, peftRankFields, peftTargetModules, specsFromPeft } from './loraPeft.js';

import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../io/checkpointTypes.js';

export { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE };

/** The adapter_config.json fields PEFT's LoraConfig writes (the ones tinygpt uses are read back). */
export interface PeftLoraConfig {
  readonly peft_type: 'LORA';
  readonly task_type: 'CAUSAL_LM';
  readonly auto_mapping: null;
  readonly base_model_name_or_path: string | null;
  readonly revision: null;
  readonly inference_mode: boolean;
  /** The rank of most modules; rank_pattern gives the others theirs. */
  readonly r: number;
  /** Module name suffixes PEFT adapts (q_proj, c_attn, attn.c_proj, ...). */
  readonly target_modules: string[];
  /** The α of most modules; alpha_pattern gives the others theirs. */
  readonly lora_alpha: number;
  readonly lora_dropout: number;
  /** True for GPT-2, whose Conv1D stores weights (in, out); lora_A (r, in) and lora_B (out, r) keep Linear's shapes either way. */
  readonly fan_in_fan_out: boolean;
  readonly bias: 'none';
  readonly use_rslora: boolean;
  readonly modules_to_save: null;
  readonly init_lora_weights: boolean;
  readonly layers_to_transform: null;
  readonly layers_pattern: null;
  /** Module-name regexps → rank, for modules whose rank is not r (GPT-2's fused c_attn: 3r for q, k and v adapters). */
  readonly rank_pattern: Record<string, number>;
  /** Module-name regexps → α, for modules whose α is not lora_alpha (the fused c_attn: 3α, so α/r is unchanged). */
  readonly alpha_pattern: Record<string, number>;
  readonly use_dora: boolean;
}

/** What saveLoRA writes: the factors by PEFT key, and adapter_config.json. */
export interface LoRAFileContents {
  readonly weights: Map<string, TensorData>;
  readonly config: PeftLoraConfig;
}

/**
 * The two PEFT files of the model's adapters, in memory. `fuse` (default true) writes GPT-2's
 * q/k/v adapters as one adapter of c_attn, which PEFT loads on Hugging Face GPT-2; false keeps
 * them apart (for tinygpt's own checkpoints, which must restore the adapters exactly).
 */
export function loraFileContents(
  model: GPT,
  options: { readonly baseModel?: string; readonly fuse?: boolean } = {},
): LoRAFileContents {
  const state = loraState(model);
  if (!state) throw new Error('saveLoRA: the model has no LoRA adapters; applyLoRA(model, ...) first.');
  const modules = peftModules(model, options.fuse ?? true);
  const weights = new Map<string, TensorData>();
  for (const m of modules) {
    weights.set(`base_model.model.${m.module}.lora_A.weight`, m.a);
    weights.set(`base_model.model.${m.module}.lora_B.weight`, m.b);
  }
  const ranks = peftRankFields(modules);
  const config: PeftLoraConfig = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    auto_mapping: null,
    base_model_name_or_path: options.baseModel ?? null,
    revision: null,
    inference_mode: true,
    r: ranks.r,
    target_modules: peftTargetModules(
      model.config,
      modules.map((m) => m.module),
    ),
    lora_alpha: ranks.lora_alpha,
    lora_dropout: state.dropout,
    fan_in_fan_out: isGpt2Architecture(model.config),
    bias: 'none',
    use_rslora: false,
    modules_to_save: null,
    init_lora_weights: true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: ranks.rank_pattern,
    alpha_pattern: ranks.alpha_pattern,
    use_dora: false,
  };
  return { weights, config };
}

/**
 * Writes the model's LoRA adapters on their own, as PEFT does: adapter_model.safetensors with
 * keys base_model.model.<module>.lora_A.weight (r, in) / lora_B.weight (out, r), and
 * adapter_config.json. On GPT-2 layouts q/k/v adapters are written as one adapter of the fused
 * c_attn (loraPeft.ts), which PEFT loads on Hugging Face GPT-2. Both files are written atomically.
 */
export async function saveLoRA(model: GPT, dir: string, options: { readonly baseModel?: string } = {}): Promise<void> {
  const { weights, config } = loraFileContents(model, options);
  await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE), weights, { format: 'pt' });
  await writeFileAtomic(path.join(dir, ADAPTER_CONFIG_FILE), toJsonText(config, ADAPTER_CONFIG_FILE));
}

function field<T>(cfg: Record<string, unknown>, key: string, ok: (v: unknown) => v is T, rule: string, file: string): T {
  const v = cfg[key];
  if (!ok(v)) throw new Error(`${file}: "${key}" must be ${rule}, got ${JSON.stringify(v)}.`);
  return v;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Reads adapters saved by {@link saveLoRA} or PEFT's save_pretrained (for modules tinygpt has)
 * and attaches them to `model` with their values: one adapter per module in the file, its rank
 * read from lora_A, its α from alpha_pattern or lora_alpha. On any fault the model is left
 * without adapters and the error names the file and the key.
 */
export async function loadLoRA(model: GPT, dir: string): Promise<void> {
  const cfgFile = path.join(dir, ADAPTER_CONFIG_FILE);
  const cfg = await readJsonObject(cfgFile);
  if (cfg === null)
    throw new Error(`${dir} has no ${ADAPTER_CONFIG_FILE}: pass a folder written by saveLoRA or PEFT's save_pretrained.`);
  if (cfg.peft_type !== 'LORA')
    throw new Error(`${cfgFile}: peft_type is ${JSON.stringify(cfg.peft_type)}; only "LORA" adapters load.`);
  for (const key of ['use_rslora', 'use_dora'] as const) {
    if (cfg[key] === true)
      throw new Error(`${cfgFile}: "${key}" is true; tinygpt loads plain LoRA adapters only (scale α/r, no DoRA).`);
  }
  if (cfg.bias !== undefined && cfg.bias !== 'none')
    throw new Error(`${cfgFile}: "bias" is ${JSON.stringify(cfg.bias)}; tinygpt loads adapters with bias "none" only.`);
  const r = field(cfg, 'r', isNumber, 'a positive integer', cfgFile);
  const loraAlpha = field(cfg, 'lora_alpha', isNumber, 'a number > 0', cfgFile);
  const dropout = cfg.lora_dropout === undefined ? 0 : field(cfg, 'lora_dropout', isNumber, 'a number in [0, 1)', cfgFile);
  const rankPattern =
    cfg.rank_pattern == null ? {} : field(cfg, 'rank_pattern', isObject, 'an object (module regexp → rank)', cfgFile);
  const alphaPattern =
    cfg.alpha_pattern == null ? {} : field(cfg, 'alpha_pattern', isObject, 'an object (module regexp → alpha)', cfgFile);
  const weightsFile = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const { tensors } = await readSafetensors(weightsFile);
  const { specs, values } = specsFromPeft(model, tensors, { r, loraAlpha, rankPattern, alphaPattern }, weightsFile);
  const adapters = attachLoRA(model, specs, dropout);
  try {
    adapters.forEach((a) => {
      const [A, B] = values.get(a.site)!;
      tf.tidy(() => {
        a.loraA.assign(tf.tensor2d(A.data as Float32Array, [A.shape[0], A.shape[1]])); // (r, in)
        a.loraB.assign(tf.tensor2d(B.data as Float32Array, [B.shape[0], B.shape[1]])); // (out, r)
      });
    });
  } catch (e) {
    removeLoRA(model);
    throw e;
  }
}
