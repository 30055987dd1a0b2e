import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng.js';

/** Which part of the corpus to draw from. */
export type Split = 'train' | 'val';

/** Options of {@link TextDataset}. */
export interface TextDatasetOptions {
  /** Fraction of the tokens, taken from the end, held out for validation (default 0.1, as nanoGPT). */
  readonly valFraction?: number;
  /**
   * Share the caller's Int32Array instead of copying it (default true: copy). Saves one copy of
   * a large corpus's ids; the caller must then leave the array unchanged.
   */
  readonly copy?: boolean;
}

/** One training batch; the caller owns (and must dispose) both tensors. */
export interface Batch {
  /** Input token ids, int32 (batchSize, blockSize). */
  readonly x: tf.Tensor2D;
  /** Targets: the id following each input position, int32 (batchSize, blockSize). */
  readonly y: tf.Tensor2D;
}

function toInt32(ids: Int32Array | readonly number[]): Int32Array {
  if (ids instanceof Int32Array) return ids;
  if (!Array.isArray(ids)) {
    throw new Error('TextDataset needs token ids as an Int32Array or an array of numbers (e.g. tokenizer.encode(text)).');
  }
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id: unknown = ids[i];
    if (typeof id !== 'number' || !Number.isInteger(id) || id > 0x7fffffff) {
      throw new Error(`TextDataset: token id at position ${i} is ${String(id)}; ids must be non-negative integers.`);
    }
    out[i] = id;
  }
  return out;
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) {
    throw new Error(`getBatch: ${name} must be a positive integer, got ${String(v)}.`);
  }
}

/**
 * A tokenized corpus split into a training part (the first 90%) and a validation part (the
 * last 10%), as nanoGPT does: contiguous rather than shuffled, so validation text is unseen
 * prose rather than fragments of training lines.
 */
export class TextDataset {
  /** Training ids: the first part of the corpus. */
  readonly train: Int32Array;
  /** Validation ids: the last part of the corpus. */
  readonly val: Int32Array;

  constructor(ids: Int32Array | readonly number[], options: TextDatasetOptions = {}) {
    const { valFraction = 0.1, copy = true } = options;
    if (typeof valFraction !== 'number' || !(valFraction >= 0 && valFraction < 1)) {
      throw new Error(`TextDataset: valFraction must be in [0, 1), got ${String(valFraction)}.`);
    }
    const all = toInt32(ids);
    if (all.length === 0) {
      throw new Error('TextDataset got no tokens: the corpus is empty. Load a non-empty text and encode it first.');
    }
    for (let i = 0; i < all.length; i++) {
      if (all[i] < 0) {
        throw new Error(`TextDataset: token id at position ${i} is ${all[i]}; ids must be non-negative integers.`);
      }
    }
    // nanoGPT: n = int(0.9 * len(data)); train = data[:n], val = data[n:].
    const n = Math.floor((1 - valFraction) * all.length);
    // Copies, so later changes to the caller's array cannot alter the splits (unless told not to).
    this.train = copy ? all.slice(0, n) : all.subarray(0, n);
    this.val = copy ? all.slice(n) : all.subarray(n);
  }

  /**
   * Throws unless both splits hold at least blockSize + 1 tokens (a window plus its shifted
   * target), naming the short split and the fix; run it before training, not at the first eval.
   */
  checkFits(blockSize: number): void {
    for (const split of ['train', 'val'] as const) {
      const n = this.split(split).length;
      if (n < blockSize + 1) {
        throw new Error(
          `The ${split} split has ${n} tokens, but blockSize ${blockSize} needs at least ${blockSize + 1} ` +
            `(blockSize + 1, for the shifted targets): use a blockSize of ${Math.max(1, n - 1)} or less (--block-size), or a longer text` +
            (split === 'val' ? ' (the last 10% of the corpus is the val split).' : '.'),
        );
      }
    }
  }

  /** Total number of tokens in both splits. */
  get length(): number {
    return this.train.length + this.val.length;
  }

  /** The ids of one split. */
  split(split: Split): Int32Array {
    if (split === 'train') return this.train;
    if (split === 'val') return this.val;
    throw new Error(`Unknown split ${JSON.stringify(split)}: use 'train' or 'val'.`);
  }

  /**
   * `batchSize` windows of `blockSize` consecutive ids from random offsets of a split, with the
   * targets shifted by one: y[b][t] = ids[o_b + t + 1], the next-token objective. Offsets
   * o_b are drawn uniformly from [0, len − blockSize) with `rng.nextInt`, so a seed fixes the batch.
   */
  getBatch(split: Split, batchSize: number, blockSize: number, rng: Rng): Batch {
    const ids = this.split(split);
    checkPositiveInt('batchSize', batchSize);
    checkPositiveInt('blockSize', blockSize);
    if (ids.length < blockSize + 1) {
      throw new Error(
        `The ${split} split has ${ids.length} tokens, but blockSize ${blockSize} needs at least ${blockSize + 1} ` +
          '(blockSize + 1, for the shifted targets): use a smaller blockSize or a longer text.',
      );
    }
    const xs = new Int32Array(batchSize * blockSize);
    const ys = new Int32Array(batchSize * blockSize);
    for (let b = 0; b < batchSize; b++) {
      const o = rng.nextInt(ids.length - blockSize);
      xs.set(ids.subarray(o, o + blockSize), b * blockSize);
      ys.set(ids.subarray(o + 1, o + 1 + blockSize), b * blockSize);
    }
    const x = tf.tensor2d(xs, [batchSize, blockSize], 'int32'); // (B, T)
    const y = tf.tensor2d(ys, [batchSize, blockSize], 'int32'); // (B, T)
    return { x, y };
  }
}
