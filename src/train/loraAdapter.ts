import * as tf from '@tensorflow/tfjs-core';
import type { LinearAdapter } from '../layers/linear.js';
import { maybeDropout, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';

/** What one adapter is attached to, and under which name it is saved. */
export interface LoRASite {
  /** The user's target name that selected it (q_proj, c_attn, ...). */
  readonly target: string;
  /** Module path of the linear layer in tinygpt's canonical names (h.0.attn.c_attn). */
  readonly linear: string;
  /** Output columns [from, to) of that layer the adapter changes (q, k or v of a fused c_attn). */
  readonly columns: readonly [number, number];
  /** The module's name in the Hugging Face model PEFT wraps (model.layers.0.self_attn.q_proj). */
  readonly peftModule: string;
}

/**
 * A LoRA adapter (Hu et al. 2021): Δy = (α/r) · dropout(x)·Aᵀ·Bᵀ on a slice of a linear layer's
 * outputs, i.e. W_eff = W + (α/r)·(B·A)ᵀ in tinygpt's (in, out) layout. A (r, in) and B (out, r)
 * are stored as PEFT stores lora_A.weight and lora_B.weight. A is drawn as PEFT's
 * kaiming_uniform(a = √5), U(−1/√in, 1/√in); B starts at 0, so the model is unchanged at first.
 */
export class LoRAAdapter implements LinearAdapter {
  /** A (r, in). */
  readonly loraA: tf.Variable<tf.Rank.R2>;
  /** B (out, r). */
  readonly loraB: tf.Variable<tf.Rank.R2>;
  /** α / r. */
  readonly scale: number;

  constructor(
    readonly site: LoRASite,
    nIn: number,
    readonly rank: number,
    readonly alpha: number,
    readonly dropout: number,
    rng: Rng,
  ) {
    const nOut = site.columns[1] - site.columns[0];
    const bound = 1 / Math.sqrt(nIn);
    const a = Float32Array.from({ length: rank * nIn }, () => (2 * rng.next() - 1) * bound);
    this.loraA = tf.tidy(() => tf.variable(tf.tensor2d(a, [rank, nIn]), true)); // (r, in)
    this.loraB = tf.tidy(() => tf.variable(tf.zeros([nOut, rank]), true)) as tf.Variable<tf.Rank.R2>; // (out, r)
    this.scale = alpha / rank;
  }

  get columns(): readonly [number, number] {
    return this.site.columns;
  }

  /** x (N, in) → Δy (N, out) = (α/r)·dropout(x)·Aᵀ·Bᵀ. */
  forward(x: tf.Tensor2D, training: boolean, seed: number): tf.Tensor2D {
    return tf.tidy(() => {
      const xd = maybeDropout(x, this.dropout, training, seed); // (N, in)
      const low = tf.matMul(xd, this.loraA, false, true); // (N, in)·(in, r) = (N, r)
      return tf.mul(tf.matMul(low, this.loraB, false, true), this.scale) as tf.Tensor2D; // (N, r)·(r, out) = (N, out)
    });
  }

  /** ΔW (in, out) = (α/r)·Aᵀ·Bᵀ: what merging adds to the layer's weight columns. */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.matMul(this.loraA, this.loraB, true, true), this.scale) as tf.Tensor2D); // (in, r)·(r, out) = (in, out)
  }

  weights(): NamedVariables {
    return [
      ['lora_A.weight', this.loraA],
      ['lora_B.weight', this.loraB],
    ];
  }

  dispose(): void {
    this.loraA.dispose();
    this.loraB.dispose();
  }
}
