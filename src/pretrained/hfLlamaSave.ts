import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedGPTConfig } from '../config/config.js';
import type { TensorData } from '../io/safetensorsTypes.js';
import { transposeInto } from '../util/transpose.js';
import { toHFLlamaConfig } from './hfLlamaConfig.js';
import { hfRules } from './hfLlamaNames.js';

/**
 * A Llama- or Gemma-3-shaped model as Hugging Face stores it: config.json's keys and the
 * tensors under HF's names, linear weights (out, in), Gemma's norm gains as w = γ − 1.
 */
export async function toHFLlamaFolder(
  config: ResolvedGPTConfig,
  weights: ReadonlyMap<string, tf.Variable>,
): Promise<{ json: Record<string, unknown>; tensors: Map<string, TensorData> }> {
  const { family, json } = toHFLlamaConfig(config);
  const tensors = new Map<string, TensorData>();
  for (const rule of hfRules(config, family)) {
    const v = weights.get(rule.tinygpt);
    if (!v) throw new Error(`internal: the model has no weight ${rule.tinygpt}.`);
    const data = new Float32Array((await v.data()) as Float32Array);
    const shape = [...v.shape];
    if (rule.op === 'linear') {
      const out = new Float32Array(data.length);
      transposeInto(data, 0, shape[0], shape[1], out, 0); // (in, out) → (out, in)
      tensors.set(rule.hf[0], { shape: [shape[1], shape[0]], data: out });
    } else {
      if (rule.op === 'norm' && family === 'gemma3') for (let i = 0; i < data.length; i++) data[i] -= 1; // w = γ − 1
      tensors.set(rule.hf[0], { shape, data });
    }
  }
  return { json, tensors };
}
