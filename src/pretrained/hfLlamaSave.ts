import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedGPTConfig } from '../config/config.js';
import { fromCanonical } from '../io/convert.js';
import type { TensorData } from '../io/safetensorsTypes.js';
import { toHFLlamaConfig } from './hfLlamaConfig.js';

/**
 * A Llama- or Gemma-3-shaped model as Hugging Face stores it: config.json's keys and the
 * tensors under HF's names (the name table's hf-llama / hf-gemma rows: linear weights (out, in),
 * c_attn split into q/k/v, Gemma's norm gains as w = γ − 1).
 */
export async function toHFLlamaFolder(
  config: ResolvedGPTConfig,
  weights: ReadonlyMap<string, tf.Variable>,
): Promise<{ json: Record<string, unknown>; tensors: Map<string, TensorData> }> {
  const { family, json } = toHFLlamaConfig(config);
  const canonical = new Map<string, TensorData>();
  for (const [name, v] of weights) canonical.set(name, { shape: [...v.shape], data: new Float32Array((await v.data()) as Float32Array) });
  return { json, tensors: fromCanonical(config, family === 'gemma3' ? 'hf-gemma' : 'hf-llama', canonical) };
}
