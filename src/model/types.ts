import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedGPTConfig } from '../config/config.js';

/** Options for a forward pass. */
export interface ForwardOptions {
  /** Apply dropout (training mode). Default false. */
  readonly training?: boolean;
  /** Seed for this pass's dropout masks; the trainer draws it from its Rng. */
  readonly seed?: number;
}

/** What the trainer and the sampler need from a model; GPT implements it. */
export interface LanguageModel {
  readonly config: ResolvedGPTConfig;
  /** int32 ids (B, T) with T <= blockSize → logits (B, T, vocabSize). */
  forward(ids: tf.Tensor2D, options?: ForwardOptions): tf.Tensor3D;
  /** Mean cross-entropy −ln p(target) over all B·T positions, a scalar. */
  loss(ids: tf.Tensor2D, targets: tf.Tensor2D, options?: ForwardOptions): tf.Scalar;
  /** Trainable weights, in a stable order, by stable name (e.g. "h.0.attn.c_attn.weight"). */
  namedWeights(): Map<string, tf.Variable>;
  numParams(): number;
  dispose(): void;
  /** Optional incremental decoding for one sequence (the caller disposes it); without it, generation re-reads the window. */
  stepper?(options?: StepperOptions): Stepper;
}

/** Options of {@link LanguageModel.stepper}. */
export interface StepperOptions {
  /** Step on the tensor-free Decoder (true) or the tensor KV cache (false); default: the Decoder on wasm and cpu. */
  readonly fastDecoder?: boolean;
}

/** Incremental next-token logits over a cache of the positions read so far. */
export interface Stepper {
  /** Positions held; 0 after reset, or after the stepper had to start over (e.g. the weights changed under it). */
  held(): number;
  /** Reads ids after the held positions; returns the logits (V) after the last one, a fresh array. */
  feed(ids: readonly number[]): Float32Array;
  /** Forgets every held position. */
  reset(): void;
  dispose(): void;
}
