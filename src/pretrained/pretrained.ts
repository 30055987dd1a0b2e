import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { TensorData } from '../io/safetensorsTypes.js';
import { resolveConfig, type GPTConfig } from '../config/config.js';
import { GPT } from '../model/gpt.js';
import { fromHFConfig, isHFGPT2Config, toHFConfig } from './hfGpt2Config.js';
import { assignWeights, canonicalWeights, normalizeWeightNames } from '../io/weights.js';

/** Where a model folder's files live. */
const CONFIG = 'config.json';
const WEIGHTS = 'model.safetensors';

/** Formats {@link savePretrained} writes: tinygpt's own, or Hugging Face GPT-2's. */
export type PretrainedFormat = 'tinygpt' | 'hf-gpt2';

async function readConfig(dir: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, CONFIG);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`${dir} is not a model folder: ${CONFIG} is missing (expected ${CONFIG} and ${WEIGHTS}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: malformed JSON (${(e as Error).message}).`);
  }
  if (json == null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${file}: expected a JSON object.`);
  return json as Record<string, unknown>;
}

/**
 * Loads a model folder: tinygpt's own (config.json with tinygpt's keys) or Hugging Face's GPT-2
 * (config.json with n_layer, n_head, n_embd, ...; Conv1D weights stored [in, out], which is
 * tinygpt's layout too, so no weight is transposed).
 */
export async function loadPretrained(dir: string): Promise<GPT> {
  const json = await readConfig(dir);
  const hf = isHFGPT2Config(json);
  const config = hf ? fromHFConfig(json, path.join(dir, CONFIG)) : resolveConfig((json.model ?? json) as GPTConfig);
  const file = path.join(dir, WEIGHTS);
  const { tensors } = await readSafetensors(file);
  const named = hf ? normalizeWeightNames(tensors, config.tieEmbeddings) : canonicalWeights(config, tensors, file);
  const model = new GPT(config);
  try {
    assignWeights(model.namedWeights(), named, file);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * Writes config.json and model.safetensors. 'hf-gpt2' uses GPT-2's config keys and tensor names
 * (which Hugging Face's GPT2LMHeadModel and nanoGPT's loader read); 'tinygpt' keeps every option.
 */
export async function savePretrained(model: GPT, dir: string, format: PretrainedFormat = 'tinygpt'): Promise<void> {
  if (format !== 'tinygpt' && format !== 'hf-gpt2') {
    throw new Error(`savePretrained: unknown format "${String(format)}"; use "tinygpt" or "hf-gpt2".`);
  }
  const config = format === 'hf-gpt2' ? toHFConfig(model.config) : { model_type: 'tinygpt', ...model.config };
  const records = new Map<string, TensorData>();
  for (const [name, v] of model.namedWeights()) {
    records.set(name, { shape: [...v.shape], data: (await v.data()) as Float32Array });
  }
  await mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, WEIGHTS), records, { format: 'pt' });
  await writeFileAtomic(path.join(dir, CONFIG), JSON.stringify(config, null, 2) + '\n');
}

/** Loads weights into an existing model from in-memory GPT-2-style records (used by tests and tools). */
export function loadWeightsInto(model: GPT, tensors: ReadonlyMap<string, TensorData>, label = '<memory>'): void {
  assignWeights(model.namedWeights(), normalizeWeightNames(tensors, model.config.tieEmbeddings), label);
}

