import * as tf from '@tensorflow/tfjs-core';
import type { LayerPlan } from '../config/plan.js';
import { gelu, geluTanh, silu } from '../ops/activations.js';
import { Linear } from '../layers/linear.js';
import { maybeDropout, prefixed, type Module, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';

/**
 * Position-wise feed-forward sublayer of one layer, as its plan says:
 *   FFN(x) = act(x·W_fc + b)·W_proj + b                  (GeLU x·Φ(x), GPT-2's tanh GeLU, ReLU)
 *   FFN(x) = (act(x·W_fc) ⊙ x·W_up)·W_proj               (gated, Shazeer 2020: SwiGLU with Swish, GeGLU with tanh GeLU)
 * W_fc is GPT-2's c_fc (the gate when gated), W_up "c_up", W_proj "c_proj".
 */
export class FeedForward implements Module {
  /** W_fc (d, F). */
  readonly fc: Linear;
  /** W_up (d, F), gated FFNs only. */
  readonly up: Linear | undefined;
  /** W_proj (F, d). */
  readonly proj: Linear;

  constructor(
    readonly plan: LayerPlan,
    nEmbd: number,
    rng: Rng | null,
  ) {
    const { ffnHidden: h, bias } = plan;
    this.fc = new Linear(nEmbd, h, 0.02, bias, rng);
    this.up = plan.gated ? new Linear(nEmbd, h, 0.02, bias, rng) : undefined;
    this.proj = new Linear(h, nEmbd, plan.projStd, bias, rng);
  }

  /** x (N, C) → (N, C). */
  forward(x: tf.Tensor2D, training: boolean, seed: number): tf.Tensor2D {
    const pre = this.fc.forward(x, training, seed + 4); // (N, F)
    const up = () => this.up!.forward(x, training, seed + 5); // (N, F)
    let hidden: tf.Tensor2D; // (N, F)
    switch (this.plan.activation) {
      case 'gelu':
        hidden = gelu(pre);
        break;
      case 'gelu_tanh':
        hidden = geluTanh(pre);
        break;
      case 'relu':
        hidden = tf.relu(pre);
        break;
      case 'swiglu':
        hidden = tf.mul(silu(pre), up()); // (N, F)
        break;
      case 'geglu':
        hidden = tf.mul(geluTanh(pre), up()); // (N, F)
        break;
    }
    const y = this.proj.forward(hidden, training, seed + 6); // (N, C)
    return maybeDropout(y, this.plan.dropout, training, seed); // (N, C)
  }

  /** c_fc, c_up (gated only), c_proj. */
  weights(): NamedVariables {
    return [
      ...prefixed('c_fc.', this.fc.weights()),
      ...(this.up ? prefixed('c_up.', this.up.weights()) : []),
      ...prefixed('c_proj.', this.proj.weights()),
    ];
  }

  dispose(): void {
    this.fc.dispose();
    this.up?.dispose();
    this.proj.dispose();
  }
}
