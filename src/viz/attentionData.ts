/**
 * From a model to plain attention numbers: runs one forward pass that keeps each layer's
 * attention weights, copies them out of the backend and frees every tensor it made.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedGPTConfig } from '../config/config.js';

/**
 * Any model whose forward pass can hand back its attention weights, as GPT's
 * forward(ids, { returnAttention: true }) does: tinygpt checkpoints and Hugging Face folders alike.
 */
export interface AttentionSource {
  /** Sizes the ids are checked against. */
  readonly config: Pick<ResolvedGPTConfig, 'vocabSize' | 'blockSize'>;
  /** ids (1, T) → logits (1, T, V) and one α (1, nh, T, T) per layer; the caller disposes them. */
  forward(
    ids: tf.Tensor2D,
    options: { readonly training?: boolean; readonly returnAttention: true },
  ): { readonly logits: tf.Tensor3D; readonly attention: tf.Tensor4D[] };
}

/** What {@link computeAttention} returns: plain data, no tensors. */
export interface AttentionResult {
  /** Weights α[layer][head][query][key]; each row is a softmax, so it sums to 1. */
  readonly maps: number[][][][];
  /** The token ids the attention was computed on (the input, unchanged). */
  readonly ids: readonly number[];
}

/** Splits one layer's α (nh·T·T values of batch row 0, row-major) into [head][query][key]. */
function splitLayer(data: ArrayLike<number>, nh: number, t: number): number[][][] {
  return Array.from({ length: nh }, (_, h) =>
    Array.from({ length: t }, (_, q) => Array.from({ length: t }, (_, k) => data[(h * t + q) * t + k])),
  );
}

/**
 * Reads attention tensors (one (B, nh, T, T) per layer, as GPT.forwardWithAttention returns)
 * into plain arrays for batch row `batch`. The tensors are only read, not disposed.
 */
export async function attentionArrays(attention: readonly tf.Tensor4D[], batch = 0): Promise<number[][][][]> {
  const out: number[][][][] = [];
  for (const [l, a] of attention.entries()) {
    const [b, nh, t, t2] = a.shape;
    if (t !== t2 || !(Number.isInteger(batch) && batch >= 0 && batch < b)) {
      throw new Error(`attentionArrays: layer ${l} has shape [${a.shape}]; need (B, nh, T, T) with batch ${batch} < B.`);
    }
    const row = tf.tidy(() => tf.slice(a, [batch, 0, 0, 0], [1, nh, t, t])); // (1, nh, T, T)
    try {
      out.push(splitLayer(await row.data(), nh, t));
    } finally {
      row.dispose();
    }
  }
  return out;
}

/**
 * The attention weights of every layer and head for one token sequence (at most blockSize
 * ids): one forward pass without dropout. Leaves tf.memory().numTensors unchanged.
 */
export async function computeAttention(model: AttentionSource, ids: readonly number[]): Promise<AttentionResult> {
  if (!Array.isArray(ids) || ids.length === 0) {
    throw new Error('computeAttention: ids is empty; encode at least one token of text first.');
  }
  const { vocabSize, blockSize } = model.config;
  if (ids.length > blockSize) {
    throw new Error(`computeAttention: ${ids.length} tokens exceed the model's context of ${blockSize}; shorten the text.`);
  }
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
  if (bad !== undefined) throw new Error(`computeAttention: token id ${String(bad)} is not an integer in [0, ${vocabSize}).`);
  const input = tf.tensor2d([...ids], [1, ids.length], 'int32'); // (1, T)
  let out: ReturnType<AttentionSource['forward']>;
  try {
    out = model.forward(input, { training: false, returnAttention: true }); // (1, T, V), L × (1, nh, T, T)
  } finally {
    input.dispose();
  }
  try {
    return { maps: await attentionArrays(out.attention), ids: [...ids] };
  } finally {
    out.logits.dispose();
    out.attention.forEach((a) => a.dispose());
  }
}
