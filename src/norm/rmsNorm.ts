import type * as tf from '@tensorflow/tfjs-core';
import { rmsNorm } from '../ops/rmsNorm.js';
import { constantVariable, type Module, type NamedVariables } from '../util/params.js';

/**
 * RMSNorm over the last axis, y = γ ⊙ x / √(mean(x²) + ε), with γ = 1 at init. Gemma stores the
 * gain as w with γ = 1 + w; here γ itself is the weight.
 */
export class RMSNorm implements Module {
  /** Gain γ (size). */
  readonly gamma: tf.Variable<tf.Rank.R1>;

  constructor(
    readonly size: number,
    readonly eps = 1e-6,
  ) {
    this.gamma = constantVariable([size], 1) as tf.Variable<tf.Rank.R1>;
  }

  /** x (..., size) → (..., size). */
  forward<T extends tf.Tensor>(x: T): T {
    return rmsNorm(x, this.gamma, this.eps); // (..., size)
  }

  weights(): NamedVariables {
    return [['weight', this.gamma]];
  }

  dispose(): void {
    this.gamma.dispose();
  }
}
