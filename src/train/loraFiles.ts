import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { readJsonObject, toJsonText } from '../io/jsonFile.js';
import { readSafetensors, writeSafetensors, type TensorData } from '../io/safetensors.js';
import { isGpt2Architecture } from '../config/plan.js';
import type { GPT } from '../model/gpt.js';
import { applyLoRA, loraState, loraWeights, removeLoRA } from './lora.js';

/** PEFT's file names. */
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';

/** The adapter_config.json fields PEFT's LoraConfig writes (the ones tinygpt uses are read back). */
export interface PeftLoraConfig {
  readonly peft_type: 'LORA';
  readonly task_type: 'CAUSAL_LM';
  readonly r: number;
  readonly lora_alpha: number;
  readonly lora_dropout: number;
  readonly target_modules: string[];
  readonly bias: 'none';
  /** True for GPT-2, whose Conv1D stores weights (in, out); the LoRA factors keep PEFT's shapes either way. */
  readonly fan_in_fan_out: boolean;
  readonly base_model_name_or_path: string | null;
  readonly inference_mode: boolean;
  readonly init_lora_weights: boolean;
  readonly modules_to_save: null;
  readonly layers_to_transform: null;
  readonly layers_pattern: null;
  readonly rank_pattern: Record<string, never>;
  readonly alpha_pattern: Record<string, never>;
  readonly use_rslora: boolean;
  readonly use_dora: boolean;
  readonly revision: null;
}

/**
 * Writes the model's LoRA adapters on their own, as PEFT does: adapter_model.safetensors with
 * keys base_model.model.<module>.lora_A.weight (r, in) / lora_B.weight (out, r), and
 * adapter_config.json. Both files are written atomically.
 */
export async function saveLoRA(model: GPT, dir: string, options: { readonly baseModel?: string } = {}): Promise<void> {
  const state = loraState(model);
  if (!state) throw new Error('saveLoRA: the model has no LoRA adapters; applyLoRA(model, ...) first.');
  const tensors = new Map<string, TensorData>();
  for (const [name, v] of loraWeights(model)) tensors.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
  const config: PeftLoraConfig = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: state.rank,
    lora_alpha: state.alpha,
    lora_dropout: state.dropout,
    target_modules: [...state.targets],
    bias: 'none',
    fan_in_fan_out: isGpt2Architecture(model.config),
    base_model_name_or_path: options.baseModel ?? null,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    use_rslora: false,
    use_dora: false,
    revision: null,
  };
  await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: 'pt' });
  await writeFileAtomic(path.join(dir, ADAPTER_CONFIG_FILE), toJsonText(config, ADAPTER_CONFIG_FILE));
}

function field<T>(cfg: Record<string, unknown>, key: string, ok: (v: unknown) => v is T, rule: string, file: string): T {
  const v = cfg[key];
  if (!ok(v)) throw new Error(`${file}: "${key}" must be ${rule}, got ${JSON.stringify(v)}.`);
  return v;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');

/**
 * Reads adapters saved by {@link saveLoRA} (or PEFT, for modules tinygpt has) and attaches them
 * to `model` with their values. Every key must match an adapter of the config, in shape; on any
 * fault the model is left without adapters and the error names the file and the key.
 */
export async function loadLoRA(model: GPT, dir: string): Promise<void> {
  const cfgFile = path.join(dir, ADAPTER_CONFIG_FILE);
  const cfg = await readJsonObject(cfgFile);
  if (cfg === null) throw new Error(`${dir} has no ${ADAPTER_CONFIG_FILE}: pass a folder written by saveLoRA or PEFT's save_pretrained.`);
  if (cfg.peft_type !== 'LORA') throw new Error(`${cfgFile}: peft_type is ${JSON.stringify(cfg.peft_type)}; only "LORA" adapters load.`);
  const rank = field(cfg, 'r', isNumber, 'a positive integer', cfgFile);
  const alpha = field(cfg, 'lora_alpha', isNumber, 'a number > 0', cfgFile);
  const dropout = cfg.lora_dropout === undefined ? 0 : field(cfg, 'lora_dropout', isNumber, 'a number in [0, 1)', cfgFile);
  const targets = field(cfg, 'target_modules', isStrings, 'a non-empty list of module names', cfgFile);
  const weightsFile = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const { tensors } = await readSafetensors(weightsFile);
  applyLoRA(model, { rank, alpha, dropout, targets });
  try {
    const vars = loraWeights(model);
    for (const [name, v] of vars) {
      const t = tensors.get(name);
      if (!t) throw new Error(`${weightsFile} lacks ${name}, which target_modules ${JSON.stringify(targets)} imply.`);
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        throw new Error(`${weightsFile}: ${name} has shape [${t.shape}] but this model needs [${v.shape}]; the adapters were trained for another model.`);
      }
    }
    const extra = [...tensors.keys()].filter((k) => !vars.has(k));
    if (extra.length > 0) throw new Error(`${weightsFile} holds ${extra.length} tensors this model has no adapter for (e.g. ${extra[0]}).`);
    for (const [name, v] of vars) {
      const t = tensors.get(name)!;
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape as number[], 'float32'))); // like the adapter weight: A (r, in) or B (out, r)
    }
  } catch (e) {
    removeLoRA(model);
    throw e;
  }
}
