import * as tf from '@tensorflow/tfjs-core';
import { GroupedQueryAttention } from '../attention/groupedQueryAttention.js';
import type { AttentionCall } from '../attention/multiHeadAttention.js';
import type { RotaryEmbedding } from '../attention/rope.js';
import { isLocalLayer } from '../config/plan.js';
import type { ResolvedGPTConfig } from '../config/config.js';
import { prefixed, type Module, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';
import { FeedForward } from './feedForward.js';
import { makeNorm, type Norm } from '../norm/norms.js';

/**
 * A Llama/Gemma-style decoder layer on the residual stream x:
 *   h = x + N_post_attn(Attn(N_pre_attn(x))),  y = h + N_post_ffn(FFN(N_pre_ffn(h))),
 * where the post-sublayer norms exist only with sandwichNorm (Gemma 2 and 3; Llama has the two
 * pre-norms alone). Tensor names (under h.{i}.): pre_attention_norm, attn.{q,k,v,o}_proj,
 * attn.{q,k}_norm, post_attention_norm, pre_feedforward_norm, mlp.{gate,up,down}_proj,
 * post_feedforward_norm.
 */
export class DecoderBlock implements Module {
  readonly preAttentionNorm: Norm;
  readonly attn: GroupedQueryAttention;
  readonly postAttentionNorm: Norm | undefined;
  readonly preFeedforwardNorm: Norm;
  readonly mlp: FeedForward;
  readonly postFeedforwardNorm: Norm | undefined;

  /** Layer `layer` of a model with config c; `rope` is the model's table for this layer's base, if any. */
  constructor(c: ResolvedGPTConfig, layer: number, rng: Rng, rope?: RotaryEmbedding) {
    const { nEmbd, bias, dropout, layerNormEps: eps } = c;
    const norm = () => makeNorm(c.norm, nEmbd, eps, bias);
    const projStd = 0.02 / Math.sqrt(2 * c.nLayer); // GPT-2: residual projections scaled by 1/√(2·nLayer)
    this.preAttentionNorm = norm();
    this.attn = new GroupedQueryAttention(
      {
        nEmbd,
        nHead: c.nHead,
        nKvHead: c.nKvHead,
        headDim: c.headDim,
        bias,
        dropout,
        projStd,
        window: isLocalLayer(c, layer) ? c.slidingWindow : 0,
        qkNorm: c.qkNorm,
        normEps: eps,
      },
      rng,
      rope,
    );
    this.postAttentionNorm = c.sandwichNorm ? norm() : undefined;
    this.preFeedforwardNorm = norm();
    this.mlp = new FeedForward({ nEmbd, hidden: c.ffnHidden, activation: c.activation, bias, dropout, projStd, naming: 'llama' }, rng);
    this.postFeedforwardNorm = c.sandwichNorm ? norm() : undefined;
  }

  /** x (B·T, C) → y (B·T, C). */
  forward(x: tf.Tensor2D, b: number, t: number, call: AttentionCall): tf.Tensor2D {
    const a = this.attn.forward(this.preAttentionNorm.forward(x), b, t, call); // (B·T, C)
    const h = tf.add<tf.Tensor2D>(x, this.postAttentionNorm ? this.postAttentionNorm.forward(a) : a); // (B·T, C)
    const f = this.mlp.forward(this.preFeedforwardNorm.forward(h), call.training, call.seed + 2); // (B·T, C)
    return tf.add(h, this.postFeedforwardNorm ? this.postFeedforwardNorm.forward(f) : f); // (B·T, C)
  }

  weights(): NamedVariables {
    const out: NamedVariables = [
      ...prefixed('pre_attention_norm.', this.preAttentionNorm.weights()),
      ...prefixed('attn.', this.attn.weights()),
    ];
    if (this.postAttentionNorm) out.push(...prefixed('post_attention_norm.', this.postAttentionNorm.weights()));
    out.push(...prefixed('pre_feedforward_norm.', this.preFeedforwardNorm.weights()), ...prefixed('mlp.', this.mlp.weights()));
    if (this.postFeedforwardNorm) out.push(...prefixed('post_feedforward_norm.', this.postFeedforwardNorm.weights()));
    return out;
  }

  dispose(): void {
    for (const m of [this.preAttentionNorm, this.attn, this.postAttentionNorm, this.preFeedforwardNorm, this.mlp, this.postFeedforwardNorm]) {
      m?.dispose();
    }
  }
}
