import * as tf from '@tensorflow/tfjs-core';
import { isGated, type Activation } from '../config/config.js';
import { gelu, geluTanh, silu } from '../ops/activations.js';
import { linear } from '../ops/matmul.js';
import { linearParams, maybeDropout, type LinearParams, type Module, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';

/** Sizes and options of a {@link FeedForward}. */
export interface FeedForwardConfig {
  /** Model width d. */
  readonly nEmbd: number;
  /** Hidden width (per branch for SwiGLU and GeGLU). */
  readonly hidden: number;
  /** 'gelu' (exact x·Φ(x)), 'gelu_tanh' (GPT-2), 'relu', 'swiglu' or 'geglu'. */
  readonly activation: Activation;
  /**
   * Tensor names: 'gpt2' (default) c_fc (the gate when gated), c_up, c_proj; 'llama' gate_proj,
   * up_proj, down_proj (an ungated FFN has up_proj and down_proj).
   */
  readonly naming?: 'gpt2' | 'llama';
  /** Whether the linear layers carry biases. */
  readonly bias: boolean;
  /** Dropout on the output (residual branch). */
  readonly dropout: number;
  /** Std of the output projection's init. */
  readonly projStd: number;
}

/**
 * Position-wise feed-forward sublayer: FFN(x) = act(x·W1 + b1)·W2 + b2, or gated (Shazeer 2020)
 * FFN(x) = (act(x·W) ⊙ x·V)·W2 with act = Swish for SwiGLU and the tanh GeLU for GeGLU (as in
 * Gemma); in GPT-2 naming the gate W is "c_fc" and V "c_up".
 */
export class FeedForward implements Module {
  private readonly fc: LinearParams;
  private readonly up: LinearParams | undefined;
  private readonly proj: LinearParams;

  constructor(
    readonly config: FeedForwardConfig,
    rng: Rng,
  ) {
    const { nEmbd: c, hidden: h, bias } = config;
    this.fc = linearParams(c, h, 0.02, bias, rng);
    this.up = isGated(config.activation) ? linearParams(c, h, 0.02, bias, rng) : undefined;
    this.proj = linearParams(h, c, config.projStd, bias, rng);
  }

  /** x (N, C) → (N, C). */
  forward(x: tf.Tensor2D, training: boolean, seed: number): tf.Tensor2D {
    const pre = linear(x, this.fc[0], this.fc[1]); // (N, H)
    let hidden: tf.Tensor2D; // (N, H)
    switch (this.config.activation) {
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
        hidden = tf.mul(silu(pre), linear(x, this.up![0], this.up![1])); // (N, H)
        break;
      case 'geglu':
        hidden = tf.mul(geluTanh(pre), linear(x, this.up![0], this.up![1])); // (N, H)
        break;
    }
    const y = linear(hidden, this.proj[0], this.proj[1]); // (N, C)
    return maybeDropout(y, this.config.dropout, training, seed); // (N, C)
  }

  weights(): NamedVariables {
    const out: NamedVariables = [];
    const add = (name: string, [w, b]: LinearParams) => {
      out.push([`${name}.weight`, w]);
      if (b) out.push([`${name}.bias`, b]);
    };
    if (this.config.naming === 'llama') {
      add(this.up ? 'gate_proj' : 'up_proj', this.fc);
      if (this.up) add('up_proj', this.up);
      add('down_proj', this.proj);
    } else {
      add('c_fc', this.fc);
      if (this.up) add('c_up', this.up);
      add('c_proj', this.proj);
    }
    return out;
  }

  dispose(): void {
    for (const [, v] of this.weights()) v.dispose();
  }
}
