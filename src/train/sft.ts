import * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions, LanguageModel } from '../model/types.js';
import { maskedNllSum } from '../ops/maskedCrossEntropy.js';
import { disposeBatch, padBatch, type PaddedBatch } from './padBatch.js';
import { trainedWeights } from './lora.js';
import { PostTrainer, resolvePostTrainOptions, type PostTrainOptions } from './postTrain.js';
import type { TokenizedExample } from './sftData.js';
import { truncateExample } from './sftData.js';

/** SFT hyperparameters (TRL's SFTConfig in spirit): the shared post-training options. */
export type SFTConfig = PostTrainOptions;

/** Held-out loss of an SFT run. */
export interface SFTEvalRecord {
  readonly kind: 'eval';
  /** Optimizer steps completed. */
  readonly step: number;
  /** Masked cross-entropy over every counted token of the eval set (nats per token), dropout off. */
  readonly evalLoss: number;
  /** Counted tokens the loss averaged over. */
  readonly evalTokens: number;
  /** Wall time of the evaluation, in milliseconds. */
  readonly ms: number;
}

/**
 * Σ over counted targets of −ln p(y_t | y_<t) for one padded batch, a scalar: the numerator of
 * the SFT loss. logits (B, T, V) come from one forward pass; masked positions add 0.
 */
export function sftLossSum(model: LanguageModel, batch: PaddedBatch, options: ForwardOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const logits = model.forward(batch.ids, options); // (B, T, V)
    const [b, t, v] = logits.shape;
    return maskedNllSum(tf.reshape(logits, [b * t, v]), tf.reshape(batch.targets, [b * t]), tf.reshape(batch.mask, [b * t])); // ()
  });
}

/**
 * The SFT loss of a batch of examples: L = Σ_b Σ_t m_{b,t}·(−ln p(y_{b,t})) / Σ m, the mean over
 * assistant / completion tokens only (prompt, template and padding positions masked out).
 */
export function sftLoss(model: LanguageModel, examples: readonly TokenizedExample[], options: ForwardOptions = {}): tf.Scalar {
  const batch = padBatch(examples);
  try {
    return tf.tidy(() => tf.div(sftLossSum(model, batch, options), batch.count) as tf.Scalar); // ()
  } finally {
    disposeBatch(batch);
  }
}

/**
 * Supervised fine-tuning (TRL's SFTTrainer): next-token cross-entropy on instruction → response
 * examples with the loss on the response tokens only. Batches are right-padded (no packing).
 * With gradient accumulation the step's loss is the mean over every counted token of all its
 * micro-batches (not a mean of per-micro-batch means, which would weight short answers more).
 *
 * Examples are cut to options.maxLength tokens here too, so a hand-made list is safe.
 */
export class SFTTrainer extends PostTrainer<TokenizedExample, SFTEvalRecord> {
  private readonly evalExamples: readonly TokenizedExample[];

  constructor(
    model: LanguageModel,
    train: readonly TokenizedExample[],
    config: SFTConfig = {},
    options: { readonly evalExamples?: readonly TokenizedExample[]; readonly weights?: Map<string, tf.Variable> } = {},
  ) {
    const o = resolvePostTrainOptions(config, model);
    const cut = (xs: readonly TokenizedExample[]): TokenizedExample[] => xs.map((e) => truncateExample(e, o.maxLength));
    super(model, cut(train), o, trainedWeights(model, options.weights));
    this.evalExamples = cut(options.evalExamples ?? train);
  }

  protected tokensOf(e: TokenizedExample): number {
    return e.ids.length;
  }

  protected microLoss(micros: readonly (readonly TokenizedExample[])[], k: number): tf.Scalar {
    const batches = micros.map((m) => m.reduce((s, e) => s + e.tokenMask.reduce((a, x, i) => a + (i > 0 ? x : 0), 0), 0));
    const total = batches.reduce((a, b) => a + b, 0);
    if (total === 0) throw new Error('SFT: a step drew no counted token; every example needs a completion token.');
    const batch = padBatch(micros[k]);
    try {
      // accumulateGradients divides by K, so K·Σ_k / total sums to Σ_all m·nll / total.
      const seed = this.rng.nextSeed();
      return tf.tidy(() => tf.mul(sftLossSum(this.model, batch, { training: true, seed }), micros.length / total) as tf.Scalar); // ()
    } finally {
      disposeBatch(batch);
    }
  }

  /** Masked cross-entropy over the eval examples, in batches of batchSize. */
  async evaluate(): Promise<SFTEvalRecord> {
    const t0 = performance.now();
    let sum = 0;
    let count = 0;
    for (let i = 0; i < this.evalExamples.length; i += this.options.batchSize) {
      const batch = padBatch(this.evalExamples.slice(i, i + this.options.batchSize));
      try {
        const s = sftLossSum(this.model, batch);
        sum += (await s.data())[0];
        s.dispose();
        count += batch.count;
      } finally {
        disposeBatch(batch);
      }
    }
    return { kind: 'eval', step: this.step, evalLoss: count > 0 ? sum / count : NaN, evalTokens: count, ms: performance.now() - t0 };
  }
}
