import * as tf from '@tensorflow/tfjs-core';
import { MultiHeadAttention, type AttentionCall } from '../attention/multiHeadAttention.js';
import type { ResolvedGPTConfig } from '../config/config.js';
import { prefixed, type Module, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';
import { FeedForward } from './feedForward.js';
import { LayerNorm } from '../norm/layerNorm.js';

/**
 * Pre-norm transformer block on the residual stream:
 *   t1 = LN(x); t2 = MHA(t1); t3 = t2 + x; t4 = LN(t3); t5 = FFN(t4); h = t5 + t3.
 */
export class TransformerBlock implements Module {
  readonly ln1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln2: LayerNorm;
  readonly mlp: FeedForward;

  constructor(config: ResolvedGPTConfig, rng: Rng) {
    const { nEmbd, nHead, blockSize, bias, dropout, layerNormEps, activation, ffnHidden } = config;
    const projStd = 0.02 / Math.sqrt(2 * config.nLayer); // GPT-2: residual projections scaled by 1/√(2·nLayer)
    this.ln1 = new LayerNorm(nEmbd, layerNormEps, bias);
    this.attn = new MultiHeadAttention({ nEmbd, nHead, blockSize, bias, dropout, projStd }, rng);
    this.ln2 = new LayerNorm(nEmbd, layerNormEps, bias);
    this.mlp = new FeedForward({ nEmbd, hidden: ffnHidden, activation, bias, dropout, projStd }, rng);
  }

  /** x (B·T, C) → h (B·T, C). */
  forward(x: tf.Tensor2D, b: number, t: number, call: AttentionCall): tf.Tensor2D {
    const t1 = this.ln1.forward(x); // (B·T, C)
    const t2 = this.attn.forward(t1, b, t, call); // (B·T, C)
    const t3 = tf.add<tf.Tensor2D>(t2, x); // (B·T, C)
    const t4 = this.ln2.forward(t3); // (B·T, C)
    const t5 = this.mlp.forward(t4, call.training, call.seed + 2); // (B·T, C)
    return tf.add(t5, t3); // (B·T, C)
  }

  weights(): NamedVariables {
    return [
      ...prefixed('ln_1.', this.ln1.weights()),
      ...prefixed('attn.', this.attn.weights()),
      ...prefixed('ln_2.', this.ln2.weights()),
      ...prefixed('mlp.', this.mlp.weights()),
    ];
  }

  dispose(): void {
    this.ln1.dispose();
    this.attn.dispose();
    this.ln2.dispose();
    this.mlp.dispose();
  }
}
