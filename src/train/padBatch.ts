import * as tf from '@tensorflow/tfjs-core';
import type { TokenizedExample } from './sftData.js';

/** A right-padded batch of examples; the caller owns (and disposes) the three tensors. */
export interface PaddedBatch {
  /** Input ids (B, T) int32: ids[0 .. n−2] of each example, then padding. */
  readonly ids: tf.Tensor2D;
  /** Targets (B, T) int32: ids[1 .. n−1], then padding. */
  readonly targets: tf.Tensor2D;
  /** (B, T) float32: 1 where the target is counted by the loss, 0 at prompt, template and padding positions. */
  readonly mask: tf.Tensor2D;
  /** Σ mask: counted target tokens in the batch. */
  readonly count: number;
}

/**
 * Pads examples on the right to the longest one (T = max n − 1). With causal attention a real
 * position t attends only to positions <= t, which all belong to its own example, so padding
 * after it changes neither its logits nor its loss; the padding positions themselves have mask 0.
 * No packing, so no other example can leak in. The pad id is irrelevant (0 by default).
 */
export function padBatch(examples: readonly TokenizedExample[], padId = 0): PaddedBatch {
  if (examples.length === 0) throw new Error('padBatch: got no examples.');
  const t = Math.max(...examples.map((e) => e.ids.length)) - 1;
  if (t < 1) throw new Error('padBatch: every example needs at least two tokens (an input and a target).');
  const b = examples.length;
  const ids = new Int32Array(b * t).fill(padId);
  const targets = new Int32Array(b * t).fill(padId);
  const mask = new Float32Array(b * t);
  let count = 0;
  examples.forEach((e, r) => {
    for (let i = 0; i + 1 < e.ids.length; i++) {
      ids[r * t + i] = e.ids[i];
      targets[r * t + i] = e.ids[i + 1];
      mask[r * t + i] = e.tokenMask[i + 1];
      count += e.tokenMask[i + 1];
    }
  });
  return {
    ids: tf.tensor2d(ids, [b, t], 'int32'), // (B, T)
    targets: tf.tensor2d(targets, [b, t], 'int32'), // (B, T)
    mask: tf.tensor2d(mask, [b, t], 'float32'), // (B, T)
    count,
  };
}

/** Frees a batch's tensors. */
export function disposeBatch(batch: PaddedBatch): void {
  tf.dispose([batch.ids, batch.targets, batch.mask]);
}

/**
 * Epoch order: a Fisher–Yates shuffle of 0..n−1 from the caller's Rng draw (so one seed fixes
 * the order), consumed batchSize at a time and reshuffled when exhausted.
 */
export class EpochSampler {
  private order: number[] = [];
  private pos = 0;
  /** Completed passes over the data. */
  epoch = 0;

  constructor(
    private readonly n: number,
    private readonly nextInt: (k: number) => number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`EpochSampler: need at least one example, got ${String(n)}.`);
    this.shuffle();
  }

  private shuffle(): void {
    this.order = Array.from({ length: this.n }, (_, i) => i);
    for (let i = this.n - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
    }
    this.pos = 0;
  }

  /** The next `size` example indices (wrapping into a new shuffled epoch when needed). */
  next(size: number): number[] {
    const out: number[] = [];
    while (out.length < size) {
      if (this.pos >= this.n) {
        this.epoch += 1;
        this.shuffle();
      }
      out.push(this.order[this.pos++]);
    }
    return out;
  }
}
