import type * as tf from '@tensorflow/tfjs-core';
import type { KVCache } from '../attention/kvCache.js';
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
  /** Optional incremental decoding: an empty KV cache (caller disposes). */
  createCache?(): KVCache;
  /** Optional: logits (B, T, V) of ids that follow the positions in `cache`, which it extends. */
  forwardCached?(ids: tf.Tensor2D, cache: KVCache): tf.Tensor3D;
}
