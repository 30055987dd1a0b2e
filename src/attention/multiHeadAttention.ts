import * as tf from '@tensorflow/tfjs-core';
import { linear } from '../ops/matmul.js';
import { constantVariable, maybeDropout, normalVariable, type Module, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';
import { causalMask } from './causalMask.js';
import { scaledDotProductAttention } from './scaledDotProduct.js';

/** Sizes and options of a {@link MultiHeadAttention}. */
export interface MultiHeadAttentionConfig {
  /** Model width d. */
  readonly nEmbd: number;
  /** Number of heads A; d_k = d_v = d / A. */
  readonly nHead: number;
  /** Longest sequence; the causal mask is built once at this size. */
  readonly blockSize: number;
  /** Whether the projections carry biases. */
  readonly bias: boolean;
  /** Dropout on attention weights and on the output projection. */
  readonly dropout: number;
  /** Std of the output projection's init (GPT-2 scales it by 1/√(2·nLayer)). */
  readonly projStd: number;
}

/** Per-call options of a forward pass. */
export interface AttentionCall {
  readonly training: boolean;
  readonly seed: number;
  /** When set, receives the attention weights (B, nh, T, T); the caller owns them. */
  readonly keepWeights?: (weights: tf.Tensor4D) => void;
}

/**
 * Multi-head causal self-attention. W^Q, W^K, W^V of every head are stored fused as one
 * c_attn (d, 3d) so one 2-D matMul projects them all; the heads are concatenated and
 * projected by W^O = c_proj of shape (A·d_v, d).
 */
export class MultiHeadAttention implements Module {
  readonly cAttnW: tf.Variable<tf.Rank.R2>;
  readonly cAttnB: tf.Variable<tf.Rank.R1> | undefined;
  readonly cProjW: tf.Variable<tf.Rank.R2>;
  readonly cProjB: tf.Variable<tf.Rank.R1> | undefined;
  private readonly mask: tf.Tensor2D;

  constructor(
    readonly config: MultiHeadAttentionConfig,
    rng: Rng,
  ) {
    const { nEmbd: c, bias } = config;
    this.cAttnW = normalVariable([c, 3 * c], 0.02, rng) as tf.Variable<tf.Rank.R2>;
    this.cAttnB = bias ? (constantVariable([3 * c], 0) as tf.Variable<tf.Rank.R1>) : undefined;
    this.cProjW = normalVariable([c, c], config.projStd, rng) as tf.Variable<tf.Rank.R2>;
    this.cProjB = bias ? (constantVariable([c], 0) as tf.Variable<tf.Rank.R1>) : undefined;
    this.mask = causalMask(config.blockSize); // (blockSize, blockSize), built once
  }

  /** x (B·T, C) → (B·T, C). */
  forward(x: tf.Tensor2D, b: number, t: number, call: AttentionCall): tf.Tensor2D {
    const { nEmbd: c, nHead: nh, dropout } = this.config;
    const hs = c / nh;
    const qkv = linear(x, this.cAttnW, this.cAttnB); // (B·T, 3C)
    // (B, T, 3, nh, hs) → (3, B, nh, T, hs): one transpose separates q, k, v and the heads.
    const split = tf.transpose(tf.reshape(qkv, [b, t, 3, nh, hs]), [2, 0, 3, 1, 4]); // (3, B, nh, T, hs)
    const [q, k, v] = tf.unstack(split) as tf.Tensor4D[]; // each (B, nh, T, hs)
    const mask = t === this.config.blockSize ? this.mask : tf.slice(this.mask, [0, 0], [t, t]); // (T, T)
    const { output, weights } = scaledDotProductAttention(q, k, v, {
      mask,
      dropout,
      training: call.training,
      seed: call.seed,
    }); // (B, nh, T, hs), (B, nh, T, T)
    if (call.keepWeights) call.keepWeights(weights);
    const merged = tf.reshape(tf.transpose(output, [0, 2, 1, 3]), [b * t, c]) as tf.Tensor2D; // (B·T, C) heads concatenated
    const y = linear(merged, this.cProjW, this.cProjB); // (B·T, C)
    return maybeDropout(y, dropout, call.training, call.seed + 1); // (B·T, C)
  }

  weights(): NamedVariables {
    const out: NamedVariables = [['c_attn.weight', this.cAttnW]];
    if (this.cAttnB) out.push(['c_attn.bias', this.cAttnB]);
    out.push(['c_proj.weight', this.cProjW]);
    if (this.cProjB) out.push(['c_proj.bias', this.cProjB]);
    return out;
  }

  dispose(): void {
    for (const [, v] of this.weights()) v.dispose();
    this.mask.dispose();
  }
}
