import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedGPTConfig } from '../config/config.js';
import type { TensorData } from './safetensorsTypes.js';
import { toCanonical } from './convert.js';

/** Buffers that Hugging Face GPT-2 files carry but that are not weights (the causal mask). */
const SKIPPED = /(^|\.)attn\.(masked_)?bias$/;

/**
 * Normalises names from a GPT-2 file to tinygpt's: drops a "transformer." prefix, the causal-mask
 * buffers, and lm_head.weight when the head is tied (it is then the token embedding).
 */
export function normalizeWeightNames(
  tensors: ReadonlyMap<string, TensorData>,
  tied: boolean,
): Map<string, TensorData> {
  const out = new Map<string, TensorData>();
  for (const [raw, t] of tensors) {
    const name = raw.startsWith('transformer.') ? raw.slice('transformer.'.length) : raw;
    if (SKIPPED.test(name) && name.split('.').length === 4) continue; // h.{i}.attn.bias, not c_attn.bias
    if (tied && name === 'lm_head.weight') continue;
    out.set(name, t);
  }
  return out;
}

/**
 * Checks named records against the shapes a model expects, before anything is allocated: the
 * names must match exactly and every shape agree; the error lists what is missing, unexpected or
 * misshapen, and says which file and config disagree.
 */
export function checkWeights(
  expected: ReadonlyMap<string, readonly number[]>,
  source: ReadonlyMap<string, TensorData>,
  file: string,
): void {
  const missing = [...expected.keys()].filter((k) => !source.has(k));
  const extra = [...source.keys()].filter((k) => !expected.has(k));
  const misshapen: string[] = [];
  for (const [name, shape] of expected) {
    const s = source.get(name);
    if (s && s.shape.join(',') !== shape.join(',')) misshapen.push(`${name}: file [${s.shape}] vs model [${shape}]`);
    if (s && !(s.data instanceof Float32Array)) misshapen.push(`${name}: not a float tensor`);
  }
  if (missing.length || extra.length || misshapen.length) {
    const list = (xs: string[]) => `${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ` (+${xs.length - 5} more)` : ''}`;
    const parts = [
      missing.length ? `missing ${list(missing)}` : '',
      extra.length ? `unexpected ${list(extra)}` : '',
      misshapen.length ? `wrong shape ${misshapen.slice(0, 5).join('; ')}` : '',
    ].filter(Boolean);
    throw new Error(`${file} does not fit the model config: ${parts.join('; ')}. Check that config.json belongs to these weights.`);
  }
}

/** Copies named float32 records into a model's variables after {@link checkWeights}. */
export function assignWeights(
  target: ReadonlyMap<string, tf.Variable>,
  source: ReadonlyMap<string, TensorData>,
  file: string,
): void {
  checkWeights(new Map([...target].map(([n, v]) => [n, v.shape] as const)), source, file);
  for (const [name, v] of target) {
    const s = source.get(name)!;
    tf.tidy(() => v.assign(tf.tensor(s.data, [...s.shape], 'float32')));
  }
}

/** Whether tensors carry the names tinygpt gave Llama/Gemma-style layers before the names were unified. */
function isLegacyLayout(tensors: ReadonlyMap<string, unknown>): boolean {
  return tensors.has('final_norm.weight') || [...tensors.keys()].some((k) => k.endsWith('.attn.q_proj.weight'));
}

/**
 * A tinygpt checkpoint's tensors under the canonical names (src/config/names.ts): as they are, or,
 * for checkpoints written before the names were unified (q_proj, o_proj, final_norm, ...), converted
 * through the name table's "tinygpt-v1" rows (q, k and v joined into c_attn).
 */
export function canonicalWeights(c: ResolvedGPTConfig, tensors: ReadonlyMap<string, TensorData>, file: string): Map<string, TensorData> {
  if (!isLegacyLayout(tensors)) return new Map(tensors);
  const { tensors: out, unused } = toCanonical(c, 'tinygpt-v1', tensors, file);
  for (const name of unused) out.set(name, tensors.get(name)!); // reported as unexpected by assignWeights
  return out;
}

/** AdamW moments (flat, by weight name) renamed as {@link canonicalWeights} renames the weights they belong to. */
export function canonicalMoments(
  c: ResolvedGPTConfig,
  moments: ReadonlyMap<string, Float32Array>,
  weights: ReadonlyMap<string, TensorData>,
  file: string,
): Map<string, Float32Array> {
  if (!isLegacyLayout(weights)) return new Map(moments);
  const shaped = new Map<string, TensorData>();
  for (const [name, data] of moments) shaped.set(name, { shape: weights.get(name)?.shape ?? [data.length], data });
  const out = new Map<string, Float32Array>();
  for (const [name, t] of canonicalWeights(c, shaped, file)) out.set(name, t.data as Float32Array);
  return out;
}
