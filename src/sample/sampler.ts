import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng.js';
import {
  applyTemperature,
  checkTemperature,
  checkTopK,
  checkTopP,
  softmaxOf,
  topKFilter,
  topPFilter,
} from './processors.js';

/** Next-token logits over the vocabulary: a 1-D tensor (V) or a plain array of V numbers. */
export type LogitsLike = tf.Tensor | Float32Array | Float64Array | readonly number[];

/** How {@link sampleNext} turns logits into one token id. */
export interface SampleOptions {
  /** Divides the logits (p_i ∝ exp(z_i / T)); 0 means greedy argmax. Default 1. */
  readonly temperature?: number;
  /** Keep only the k most likely tokens (clamped to the vocabulary size). Default: all. */
  readonly topK?: number;
  /** Keep the smallest set of most likely tokens whose mass reaches p, in (0, 1]. Default 1. */
  readonly topP?: number;
  /** Source of the one uniform drawn per sampled token; required unless temperature is 0. */
  readonly rng?: Rng;
}

/** Checks every sampling option up front, so a bad value fails before any work is done. */
export function checkSampleOptions(options: SampleOptions): void {
  if (options == null || typeof options !== 'object') {
    throw new Error('Sampling options must be an object such as { temperature: 0.8, topK: 40, rng }.');
  }
  const temperature = options.temperature ?? 1;
  checkTemperature(temperature);
  if (options.topK !== undefined) checkTopK(options.topK);
  if (options.topP !== undefined) checkTopP(options.topP);
  if (temperature > 0 && (options.rng == null || typeof options.rng.next !== 'function')) {
    throw new Error(
      'rng is required when temperature > 0: pass { rng: createRng(seed) } from src/util/rng.ts, or temperature 0 for greedy.',
    );
  }
}

/**
 * Copies logits into a Float64Array, reading a tensor with one dataSync (no new tensors),
 * and rejects what cannot be sampled from: a tensor that is not 1-D, an empty vector, NaN.
 */
export function logitsToArray(logits: LogitsLike): Float64Array {
  let out: Float64Array;
  if (logits instanceof tf.Tensor) {
    if (logits.rank !== 1) {
      throw new Error(
        `Logits must be a 1-D tensor (V), got shape [${logits.shape.join(', ')}]: ` +
          'slice out one position first, e.g. tf.reshape(tf.slice(logits, [0, T - 1, 0], [1, 1, V]), [V]).',
      );
    }
    out = Float64Array.from(logits.dataSync());
  } else if (Array.isArray(logits) || logits instanceof Float32Array || logits instanceof Float64Array) {
    out = Float64Array.from(logits);
  } else {
    throw new Error('Logits must be a 1-D tf.Tensor, a Float32Array, a Float64Array or an array of numbers.');
  }
  if (out.length === 0) throw new Error('Logits are empty: the vocabulary must have at least one token.');
  for (let i = 0; i < out.length; i++) {
    if (Number.isNaN(out[i])) {
      throw new Error(
        `Logit ${i} is NaN: the model output is invalid (diverged training or a bad checkpoint).`,
      );
    }
  }
  return out;
}

/** Index of the largest logit; ties go to the lowest id, so greedy decoding is deterministic. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * Inverse-CDF draw from softmax(logits) with a given uniform u ∈ [0, 1): returns the first id
 * whose cumulative probability exceeds u. Tokens with probability 0 (logit −∞) are never chosen.
 */
export function sampleCategorical(logits: ArrayLike<number>, u: number): number {
  if (!(u >= 0 && u < 1)) throw new Error(`sampleCategorical needs a uniform u in [0, 1), got ${String(u)}.`);
  const probs = softmaxOf(logits);
  let cumulative = 0;
  let lastLive = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    cumulative += probs[i];
    lastLive = i;
    if (cumulative > u) return i;
  }
  // Rounding can leave Σ p slightly below 1 when u is within an ulp of 1.
  return lastLive;
}

/**
 * Draws the next token id from one position's logits: temperature → top-k → top-p → one
 * multinomial draw (exactly one rng.next() per call when temperature > 0, none when greedy).
 */
export function sampleNext(logits: LogitsLike, options: SampleOptions = {}): number {
  checkSampleOptions(options);
  const z = logitsToArray(logits);
  const temperature = options.temperature ?? 1;
  // top-k and top-p always keep the most likely token, so they cannot change the argmax.
  if (temperature === 0) return argmax(z);
  let filtered = applyTemperature(z, temperature);
  if (options.topK !== undefined) filtered = topKFilter(filtered, options.topK);
  if (options.topP !== undefined) filtered = topPFilter(filtered, options.topP);
  const rng = options.rng as Rng;
  return sampleCategorical(filtered, rng.next());
}
