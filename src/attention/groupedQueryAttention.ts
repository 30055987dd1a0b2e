import * as tf from '@tensorflow/tfjs-core';
import { RMSNorm } from '../norm/rmsNorm.js';
import { linear } from '../ops/matmul.js';
import { linearParams, maybeDropout, prefixed, type LinearParams, type Module, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';
import { groupedAttention } from './groupedAttention.js';
import type { AttentionCall } from './multiHeadAttention.js';
import type { RotaryEmbedding } from './rope.js';
import { slidingWindowMask } from './slidingWindowMask.js';

/** Sizes and options of a {@link GroupedQueryAttention}. */
export interface GroupedQueryAttentionConfig {
  /** Model width d. */
  readonly nEmbd: number;
  /** Query heads nh. */
  readonly nHead: number;
  /** Key/value heads nKv, dividing nh (nh: multi-head, 1: multi-query). */
  readonly nKvHead: number;
  /** Width hd of every head (need not be d / nh). */
  readonly headDim: number;
  /** Whether the projections carry biases. */
  readonly bias: boolean;
  /** Dropout on attention weights and on the output projection. */
  readonly dropout: number;
  /** Std of the output projection's init (GPT-2 scales it by 1/√(2·nLayer)). */
  readonly projStd: number;
  /** Keys each query sees, itself included (a local layer); 0 for all earlier keys (a global layer). */
  readonly window: number;
  /** RMSNorm over hd on every query and key head before RoPE (Gemma 3). */
  readonly qkNorm: boolean;
  /** Epsilon of the q/k RMSNorms. */
  readonly normEps: number;
}

/**
 * Causal self-attention in the Llama/Gemma layout: separate projections W^Q (d, nh·hd),
 * W^K, W^V (d, nKv·hd) and W^O (nh·hd, d); optional RMSNorm of q and k per head, rotary
 * positions, a sliding window, and key/value heads shared by groups of query heads.
 * The rotary table is shared between layers and owned by the model, not by this module.
 */
export class GroupedQueryAttention implements Module {
  private readonly q: LinearParams;
  private readonly k: LinearParams;
  private readonly v: LinearParams;
  private readonly o: LinearParams;
  private readonly qNorm: RMSNorm | undefined;
  private readonly kNorm: RMSNorm | undefined;

  constructor(
    readonly config: GroupedQueryAttentionConfig,
    rng: Rng,
    private readonly rope?: RotaryEmbedding,
  ) {
    const { nEmbd: d, nHead: nh, nKvHead: nkv, headDim: hd, bias } = config;
    if (nh % nkv !== 0) throw new Error(`GroupedQueryAttention: nHead (${nh}) must be divisible by nKvHead (${nkv}).`);
    if (rope && rope.headDim !== hd) throw new Error(`GroupedQueryAttention: the RoPE table is for head size ${rope.headDim}, not ${hd}.`);
    this.q = linearParams(d, nh * hd, 0.02, bias, rng);
    this.k = linearParams(d, nkv * hd, 0.02, bias, rng);
    this.v = linearParams(d, nkv * hd, 0.02, bias, rng);
    this.o = linearParams(nh * hd, d, config.projStd, bias, rng);
    this.qNorm = config.qkNorm ? new RMSNorm(hd, config.normEps) : undefined;
    this.kNorm = config.qkNorm ? new RMSNorm(hd, config.normEps) : undefined;
  }

  /** x (B·T, C) → (B·T, C); with call.cache, the T positions follow the ones cached at this layer. */
  forward(x: tf.Tensor2D, b: number, t: number, call: AttentionCall): tf.Tensor2D {
    const { nHead: nh, nKvHead: nkv, headDim: hd, dropout } = this.config;
    const heads = (p: LinearParams, n: number) =>
      tf.transpose(tf.reshape(linear(x, p[0], p[1]), [b, t, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D; // (B, n, T, hd)
    let q = heads(this.q, nh); // (B, nh, T, hd)
    let k = heads(this.k, nkv); // (B, nKv, T, hd)
    let v = heads(this.v, nkv); // (B, nKv, T, hd)
    if (this.qNorm && this.kNorm) {
      q = this.qNorm.forward(q); // (B, nh, T, hd)
      k = this.kNorm.forward(k); // (B, nKv, T, hd)
    }
    const offset = call.cache ? call.cache.store.lengthOf(call.cache.layer) : 0; // positions cached at this layer
    if (this.rope) {
      q = this.rope.apply(q, offset); // (B, nh, T, hd) at positions offset..offset+T−1
      k = this.rope.apply(k, offset); // (B, nKv, T, hd)
    }
    // The cache keeps every position's rotated key, so a window only changes the mask.
    if (call.cache) ({ k, v } = call.cache.store.append(call.cache.layer, k, v)); // (B, nKv, S, hd) each
    const mask = slidingWindowMask(t, offset + t, this.config.window); // (T, S)
    const att = groupedAttention(q, k, v, mask, { dropout, training: call.training, seed: call.seed });
    if (call.keepWeights) call.keepWeights(att.weights); // (B, nh, T, S)
    const merged = tf.reshape(tf.transpose(att.output, [0, 2, 1, 3]), [b * t, nh * hd]) as tf.Tensor2D; // (B·T, nh·hd)
    const y = linear(merged, this.o[0], this.o[1]); // (B·T, C)
    return maybeDropout(y, dropout, call.training, call.seed + 1); // (B·T, C)
  }

  /** q_proj, k_proj, v_proj, o_proj (weight (in, out) and bias), then q_norm, k_norm. */
  weights(): NamedVariables {
    const out: NamedVariables = [];
    const add = (name: string, [w, bias]: LinearParams) => {
      out.push([`${name}.weight`, w]);
      if (bias) out.push([`${name}.bias`, bias]);
    };
    add('q_proj', this.q);
    add('k_proj', this.k);
    add('v_proj', this.v);
    add('o_proj', this.o);
    if (this.qNorm && this.kNorm) out.push(...prefixed('q_norm.', this.qNorm.weights()), ...prefixed('k_norm.', this.kNorm.weights()));
    return out;
  }

  dispose(): void {
    for (const [, w] of this.weights()) w.dispose();
  }
}
