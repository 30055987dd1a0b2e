/**
 * Loss and perplexity of a model on a whole text: the mean next-token cross-entropy
 * L = −(1/N) Σ_i ln p(x_{i+1} | window), N the number of predicted tokens, and perplexity e^L.
 * The text is cut into non-overlapping windows of blockSize inputs (the last one may be
 * shorter), window w predicting tokens w·T+1 … w·T+T from w·T … w·T+T−1, so every token but the
 * first is predicted exactly once (tokens early in a window see little context, as in nanoGPT's
 * evaluation; a sliding window would be slower and give a lower loss).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../model/types.js';

/** Options of {@link evaluateText}. */
export interface EvaluateTextOptions {
  /** Windows per forward pass; more is faster up to memory. Default 8. */
  readonly batchSize?: number;
}

/** What {@link evaluateText} returns. */
export interface TextEvaluation {
  /** Mean cross-entropy in nats per predicted token. */
  readonly loss: number;
  /** e^loss: the effective number of equally likely next tokens. */
  readonly perplexity: number;
  /** Predicted tokens N (the text's tokens minus one). */
  readonly tokens: number;
  /** Windows evaluated (the last one may be shorter than blockSize). */
  readonly windows: number;
}

/** Mean loss over a batch of equal-length windows starting at `starts`, times their token count. */
async function batchLossSum(model: LanguageModel, ids: readonly number[], starts: readonly number[], t: number): Promise<number> {
  const x: number[] = [];
  const y: number[] = [];
  for (const s of starts) {
    for (let j = 0; j < t; j++) {
      x.push(ids[s + j]);
      y.push(ids[s + j + 1]);
    }
  }
  const loss = tf.tidy(() => {
    const xs = tf.tensor2d(x, [starts.length, t], 'int32'); // (B, T)
    const ys = tf.tensor2d(y, [starts.length, t], 'int32'); // (B, T)
    return model.loss(xs, ys, { training: false }); // () mean over B·T
  });
  try {
    return (await loss.data())[0] * starts.length * t;
  } finally {
    loss.dispose();
  }
}

/** Loss and perplexity of `model` on the token ids of a text (at least 2). Leaves numTensors unchanged. */
export async function evaluateText(model: LanguageModel, ids: readonly number[], options: EvaluateTextOptions = {}): Promise<TextEvaluation> {
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`evaluateText: batchSize must be an integer >= 1, got ${String(batchSize)}.`);
  }
  if (!Array.isArray(ids) || ids.length < 2) {
    throw new Error(`evaluateText: the text has ${Array.isArray(ids) ? ids.length : 0} token(s); at least 2 are needed (one to read, one to predict).`);
  }
  const { blockSize, vocabSize } = model.config;
  const bad = ids.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
  if (bad >= 0) throw new Error(`evaluateText: token ${bad} has id ${String(ids[bad])}, outside the model's vocabulary [0, ${vocabSize}).`);
  const n = ids.length - 1;
  const full = Math.floor(n / blockSize);
  let sum = 0;
  for (let w = 0; w < full; w += batchSize) {
    const starts = Array.from({ length: Math.min(batchSize, full - w) }, (_, i) => (w + i) * blockSize);
    sum += await batchLossSum(model, ids, starts, blockSize);
  }
  const rest = n - full * blockSize;
  if (rest > 0) sum += await batchLossSum(model, ids, [full * blockSize], rest);
  const loss = sum / n;
  return { loss, perplexity: Math.exp(loss), tokens: n, windows: full + (rest > 0 ? 1 : 0) };
}
