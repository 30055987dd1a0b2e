import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../model/types.js';
import type { Rng } from '../util/rng.js';

/**
 * What the trainer needs from a dataset: random batches per split. Structural, so any object
 * with this method works (src/data's TextDataset does) without the trainer depending on it.
 */
export interface BatchSource {
  /**
   * Samples batchSize windows of blockSize tokens from a split using rng: inputs x and
   * next-token targets y, both int32 (B, T). The caller owns (and disposes) the tensors.
   */
  getBatch(
    split: 'train' | 'val',
    batchSize: number,
    blockSize: number,
    rng: Rng,
  ): { readonly x: tf.Tensor2D; readonly y: tf.Tensor2D };
}

/** Mean losses per split. */
export interface SplitLosses {
  /** Mean training-split loss. */
  readonly train: number;
  /** Mean validation-split loss. */
  readonly val: number;
}

/**
 * nanoGPT's estimate_loss: the mean loss over evalIters random batches of each split, with
 * dropout off. One noisy batch would make train/val comparisons meaningless; evalIters of
 * them cut the standard error by √evalIters. Sums stay on the device; one read per split.
 */
export async function estimateLoss(
  model: LanguageModel,
  dataset: BatchSource,
  evalIters: number,
  batchSize: number,
  blockSize: number,
  rng: Rng,
): Promise<SplitLosses> {
  if (!Number.isInteger(evalIters) || evalIters < 1) {
    throw new Error(`estimateLoss: evalIters must be an integer >= 1, got ${String(evalIters)}.`);
  }
  const out: Record<'train' | 'val', number> = { train: 0, val: 0 };
  for (const split of ['train', 'val'] as const) {
    let sum: tf.Scalar = tf.scalar(0); // ()
    for (let i = 0; i < evalIters; i++) {
      const next = tf.tidy(() => {
        const { x, y } = dataset.getBatch(split, batchSize, blockSize, rng); // (B, T), (B, T)
        return tf.add(sum, model.loss(x, y, { training: false })) as tf.Scalar; // ()
      });
      sum.dispose();
      sum = next;
    }
    const total = (await sum.data())[0];
    sum.dispose();
    out[split] = total / evalIters;
  }
  return out;
}
