import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel, Stepper, StepperOptions } from '../model/types.js';

/** Default tokens dropped when the context outgrows blockSize: a quarter of the window. */
export function defaultContextShift(blockSize: number): number {
  return Math.max(1, Math.floor(blockSize / 4));
}

/**
 * Where the context window starts after the sequence reached `length` tokens. The window keeps
 * its start while it fits in blockSize; when it does not, it restarts `shift` − 1 tokens past the
 * plain crop (length − blockSize), i.e. it drops the oldest tokens in chunks of `shift`.
 */
export function windowStart(start: number, length: number, blockSize: number, shift: number): number {
  if (length - start <= blockSize) return start;
  return length - blockSize + shift - 1;
}

/**
 * Next-token logits for one context: one forward pass over (1, T) ids, keeping only the last
 * position (V).
 */
export function nextLogits(model: LanguageModel, context: readonly number[]): Float32Array {
  const t = context.length;
  const v = model.config.vocabSize;
  return lastRow(() => {
    const ids = tf.tensor2d(context as number[], [1, t], 'int32'); // (1, T)
    const logits = model.forward(ids, { training: false }); // (1, T, V)
    if (logits.rank !== 3 || logits.shape[0] !== 1 || logits.shape[1] !== t || logits.shape[2] !== v) {
      throw new Error(
        `model.forward returned shape [${logits.shape.join(', ')}] for ids of shape [1, ${t}]; ` +
          `expected [1, ${t}, ${v}] (config.vocabSize = ${v}).`,
      );
    }
    return logits;
  });
}

/** Runs a forward pass that returns (1, T, V) logits and copies out the last row (V). */
function lastRow(forward: () => tf.Tensor3D): Float32Array {
  const last = tf.tidy(() => {
    const logits = forward(); // (1, T, V)
    const [, t, v] = logits.shape;
    return tf.reshape(tf.slice(logits, [0, t - 1, 0], [1, 1, v]), [v]); // (V)
  });
  try {
    // Copy: the backend may hand out its own buffer, and callers edit the logits in place.
    return Float32Array.from(last.dataSync());
  } finally {
    last.dispose();
  }
}

/** Gives the next-token logits of a growing sequence, one call per generated token. */
export interface ContextStepper {
  /** Logits after the whole sequence `ids` (within its current window). */
  next(ids: readonly number[]): Float32Array;
  /** The window's first index into ids, after the last next(). */
  readonly start: number;
  dispose(): void;
}

/** Re-reads the whole window every step: cost grows with the window. */
class FullStepper implements ContextStepper {
  start = 0;

  constructor(
    private readonly model: LanguageModel,
    private readonly shift: number,
  ) {}

  next(ids: readonly number[]): Float32Array {
    this.start = windowStart(this.start, ids.length, this.model.config.blockSize, this.shift);
    return nextLogits(this.model, ids.slice(this.start));
  }

  dispose(): void {}
}

/**
 * Feeds only the tokens the cache has not seen. When the window moves, the cache is reset
 * and the new window is read in one pass (learned absolute positions change for every token).
 */
class CachedStepper implements ContextStepper {
  start = 0;

  constructor(
    private readonly feeder: Stepper,
    private readonly blockSize: number,
    private readonly shift: number,
  ) {}

  next(ids: readonly number[]): Float32Array {
    const start = windowStart(this.start, ids.length, this.blockSize, this.shift);
    if (start !== this.start) {
      this.feeder.reset();
      this.start = start;
    }
    // The cache holds ids[start, start + length); a rebuilt decoder holds nothing.
    return this.feeder.feed(ids.slice(start + this.feeder.held()));
  }

  dispose(): void {
    this.feeder.dispose();
  }
}

/**
 * A stepper for `model`: incremental over the model's own {@link LanguageModel.stepper} when
 * `useCache` is set and the model has one, else full re-reads of the window. `stepperOptions` go to
 * the model untouched (e.g. { fastDecoder }: which engine a GPT steps on is the model's choice).
 */
export function contextStepper(
  model: LanguageModel,
  shift: number,
  useCache: boolean,
  stepperOptions: StepperOptions = {},
): ContextStepper {
  if (useCache && typeof model.stepper === 'function') {
    return new CachedStepper(model.stepper(stepperOptions), model.config.blockSize, shift);
  }
  return new FullStepper(model, shift);
}
