import * as tf from '@tensorflow/tfjs-core';
import { Attention, type AttentionCall } from '../attention/attention.js';
import type { RotaryEmbedding } from '../attention/rope.js';
import type { LayerSlot } from '../config/names.js';
import type { LayerPlan } from '../config/plan.js';
import { makeNorm, type Norm } from '../norm/norms.js';
import { prefixed, type Module, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';
import { FeedForward } from './feedForward.js';

/**
 * One transformer layer on the residual stream x, pre-norm as in GPT-2:
 *   t1 = LN(x); t2 = MHA(t1); t3 = t2 + x; t4 = LN(t3); t5 = FFN(t4); h = t5 + t3.
 * LN is LayerNorm or RMSNorm, and with the plan's post-norms (Gemma's sandwich) t2 and t5 are
 * normalised once more before their residual adds: t2 = N(MHA(t1)), t5 = N(FFN(t4)).
 */
export class Block implements Module {
  readonly ln1: Norm;
  readonly attn: Attention;
  readonly postAttnNorm: Norm | undefined;
  readonly ln2: Norm;
  readonly mlp: FeedForward;
  readonly postMlpNorm: Norm | undefined;

  /** Layer `plan.index` of a model of width nEmbd; `rope` is the model's table for this layer's base, if any. */
  constructor(
    readonly plan: LayerPlan,
    nEmbd: number,
    blockSize: number,
    rng: Rng | null,
    rope?: RotaryEmbedding,
  ) {
    const norm = () => makeNorm(plan.norm, nEmbd, plan.eps, plan.bias);
    this.ln1 = norm();
    this.attn = new Attention(plan, nEmbd, blockSize, rng, rope);
    this.postAttnNorm = plan.postNorms ? norm() : undefined;
    this.ln2 = norm();
    this.mlp = new FeedForward(plan, nEmbd, rng);
    this.postMlpNorm = plan.postNorms ? norm() : undefined;
  }

  /** x (B·T, C) → h (B·T, C). */
  forward(x: tf.Tensor2D, b: number, t: number, call: AttentionCall): tf.Tensor2D {
    const t1 = this.ln1.forward(x); // (B·T, C)
    const t2 = post(this.postAttnNorm, this.attn.forward(t1, b, t, call)); // (B·T, C)
    const t3 = tf.add<tf.Tensor2D>(t2, x); // (B·T, C)
    const t4 = this.ln2.forward(t3); // (B·T, C)
    const t5 = post(this.postMlpNorm, this.mlp.forward(t4, call.training, call.seed + 2)); // (B·T, C)
    return tf.add(t5, t3); // (B·T, C)
  }

  /** The module holding one part of the layer (the name table's slots, src/config/names.ts), or undefined if this layer lacks it. */
  part(slot: LayerSlot): Module | undefined {
    const parts: Record<LayerSlot, Module | undefined> = {
      attnNorm: this.ln1,
      qkv: this.attn.qkv,
      qNorm: this.attn.qNorm,
      kNorm: this.attn.kNorm,
      attnOut: this.attn.out,
      attnPostNorm: this.postAttnNorm,
      mlpNorm: this.ln2,
      mlpIn: this.mlp.fc,
      mlpUp: this.mlp.up,
      mlpOut: this.mlp.proj,
      mlpPostNorm: this.postMlpNorm,
    };
    return parts[slot];
  }

  /** ln_1, attn.*, post_attn_norm, ln_2, mlp.*, post_mlp_norm: the order of src/config/names.ts. */
  weights(): NamedVariables {
    return [
      ...prefixed('ln_1.', this.ln1.weights()),
      ...prefixed('attn.', this.attn.weights()),
      ...(this.postAttnNorm ? prefixed('post_attn_norm.', this.postAttnNorm.weights()) : []),
      ...prefixed('ln_2.', this.ln2.weights()),
      ...prefixed('mlp.', this.mlp.weights()),
      ...(this.postMlpNorm ? prefixed('post_mlp_norm.', this.postMlpNorm.weights()) : []),
    ];
  }

  dispose(): void {
    for (const m of [this.ln1, this.attn, this.postAttnNorm, this.ln2, this.mlp, this.postMlpNorm]) m?.dispose();
  }
}

/** A sublayer's output, normalised when the layer has post-norms. */
function post(norm: Norm | undefined, y: tf.Tensor2D): tf.Tensor2D {
  return norm ? norm.forward(y) : y; // (B·T, C)
}
