import * as tf from '@tensorflow/tfjs-core';
import { layerNorm } from '../ops/layerNorm.js';
import { constantVariable, type Module, type NamedVariables } from '../util/params.js';

/** LayerNorm over the model width: LN(x) = γ ⊙ (x − μ)/√(σ² + ε) + β, with γ = 1, β = 0 at init. */
export class LayerNorm implements Module {
  /** Gain γ (C). */
  readonly gamma: tf.Variable<tf.Rank.R1>;
  /** Offset β (C), absent when the model has no biases. */
  readonly beta: tf.Variable<tf.Rank.R1> | undefined;

  constructor(
    readonly size: number,
    readonly eps = 1e-5,
    bias = true,
  ) {
    this.gamma = constantVariable([size], 1) as tf.Variable<tf.Rank.R1>;
    this.beta = bias ? (constantVariable([size], 0) as tf.Variable<tf.Rank.R1>) : undefined;
  }

  /** x (N, C) → (N, C). */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return layerNorm(x, this.gamma, this.beta, this.eps); // (N, C)
  }

  weights(): NamedVariables {
    return this.beta ? [['weight', this.gamma], ['bias', this.beta]] : [['weight', this.gamma]];
  }

  dispose(): void {
    for (const [, v] of this.weights()) v.dispose();
  }
}
