import * as tf from '@tensorflow/tfjs-core';
import type { TensorData } from '../io/safetensorsTypes.js';

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
 * Copies named float32 records into a model's variables, checking that the names match
 * exactly and every shape agrees; the error lists what is missing, unexpected or misshapen.
 */
export function assignWeights(
  target: ReadonlyMap<string, tf.Variable>,
  source: ReadonlyMap<string, TensorData>,
  file: string,
): void {
  const missing = [...target.keys()].filter((k) => !source.has(k));
  const extra = [...source.keys()].filter((k) => !target.has(k));
  const misshapen: string[] = [];
  for (const [name, v] of target) {
    const s = source.get(name);
    if (s && s.shape.join(',') !== v.shape.join(',')) {
      misshapen.push(`${name}: file [${s.shape}] vs model [${v.shape}]`);
    }
    if (s && !(s.data instanceof Float32Array)) misshapen.push(`${name}: not a float tensor`);
  }
  if (missing.length || extra.length || misshapen.length) {
    const parts = [
      missing.length ? `missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (+${missing.length - 5} more)` : ''}` : '',
      extra.length ? `unexpected ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` (+${extra.length - 5} more)` : ''}` : '',
      misshapen.length ? `wrong shape ${misshapen.slice(0, 5).join('; ')}` : '',
    ].filter(Boolean);
    throw new Error(`${file} does not fit the model config: ${parts.join('; ')}. Check that config.json belongs to these weights.`);
  }
  for (const [name, v] of target) {
    const s = source.get(name)!;
    tf.tidy(() => v.assign(tf.tensor(s.data, [...s.shape], 'float32')));
  }
}
