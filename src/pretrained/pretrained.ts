import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { writeSafetensors } from '../io/safetensors.js';
import type { TensorData } from '../io/safetensorsTypes.js';
import { isGpt2Architecture } from '../config/plan.js';
import { GPT } from '../model/gpt.js';
import { openCheckpoint } from './checkpointFiles.js';
import { toHFConfig } from './hfGpt2Config.js';
import { toHFLlamaFolder } from './hfLlamaSave.js';
import { checkHeaders, fillModel, planLoad } from './loadPlan.js';
import { assignWeights, normalizeWeightNames } from '../io/weights.js';

/** Where a model folder's files live. */
const CONFIG = 'config.json';
const WEIGHTS = 'model.safetensors';

/** Formats {@link savePretrained} writes: tinygpt's own, Hugging Face's (GPT-2, Llama or Gemma 3), or Hugging Face GPT-2's only. */
export type PretrainedFormat = 'tinygpt' | 'hf' | 'hf-gpt2';

export async function readConfig(dir: string): Promise<Record<string, unknown>> {
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
 * Loads a model folder: tinygpt's own (config.json with tinygpt's keys), Hugging Face's GPT-2
 * (n_layer, n_head, n_embd, ...; Conv1D weights stored (in, out) like tinygpt's), or Hugging
 * Face's Llama / Gemma 3 (model_type llama, gemma3_text, gemma3), from model.safetensors or the
 * shards of model.safetensors.index.json, in F32, F16 or BF16. Every tensor's name, shape and
 * dtype is checked against config.json from the files' headers before the model is allocated;
 * the weights are then read one tensor at a time.
 */
export async function loadPretrained(dir: string): Promise<GPT> {
  const json = await readConfig(dir);
  const configFile = path.join(dir, CONFIG);
  planLoad(json, [], configFile); // the config's own faults come first, before the weight files are opened
  const files = await openCheckpoint(dir);
  try {
    const plan = planLoad(json, [...files.entries.keys()], configFile);
    const names = checkHeaders(plan, files.entries, files.label, configFile);
    const model = new GPT(plan.config, { initialize: false }); // every weight comes from the file
    try {
      await fillModel(model.namedWeights(), plan, names, (n) => files.read(n), files.label);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  } finally {
    await files.close();
  }
}

/**
 * Writes config.json and model.safetensors. 'hf' writes the Hugging Face architecture that holds
 * the model (GPT-2, Llama or Gemma 3: HF's config keys and tensor names, which transformers and
 * these loaders read); 'hf-gpt2' insists on GPT-2; 'tinygpt' keeps every option.
 */
export async function savePretrained(model: GPT, dir: string, format: PretrainedFormat = 'tinygpt'): Promise<void> {
  if (format !== 'tinygpt' && format !== 'hf-gpt2' && format !== 'hf') {
    throw new Error(`savePretrained: unknown format "${String(format)}"; use "tinygpt", "hf" or "hf-gpt2".`);
  }
  const asGpt2 = format === 'hf-gpt2' || (format === 'hf' && isGpt2Architecture(model.config));
  let config: Record<string, unknown>;
  let records = new Map<string, TensorData>();
  if (format === 'hf' && !asGpt2) {
    ({ json: config, tensors: records } = await toHFLlamaFolder(model.config, model.namedWeights()));
  } else {
    config = asGpt2 ? { ...toHFConfig(model.config) } : { model_type: 'tinygpt', ...model.config };
    for (const [name, v] of model.namedWeights()) {
      records.set(name, { shape: [...v.shape], data: (await v.data()) as Float32Array });
    }
  }
  await mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, WEIGHTS), records, { format: 'pt' });
  await writeFileAtomic(path.join(dir, CONFIG), JSON.stringify(config, null, 2) + '\n');
}

/** Loads weights into an existing model from in-memory GPT-2-style records (used by tests and tools). */
export function loadWeightsInto(model: GPT, tensors: ReadonlyMap<string, TensorData>, label = '<memory>'): void {
  assignWeights(model.namedWeights(), normalizeWeightNames(tensors, model.config.tieEmbeddings), label);
}
