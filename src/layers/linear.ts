import * as tf from '@tensorflow/tfjs-core';
import { linear } from '../ops/matmul.js';
import { linearParams, type Module, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';

/**
 * A trainable change to a linear layer's output, such as a LoRA adapter: it adds
 * forward(x) to the output columns [columns[0], columns[1]) of y = x·W + b.
 */
export interface LinearAdapter extends Module {
  /** The output columns it changes, [from, to). */
  readonly columns: readonly [number, number];
  /** x (N, in) → Δy (N, to − from). */
  forward(x: tf.Tensor2D, training: boolean, seed: number): tf.Tensor2D;
}

/**
 * y = x·W + b with W (in, out) (Conv1D layout: no transpose in the forward pass), b optional,
 * initialised W ~ N(0, std²), b = 0 as in GPT-2. Adapters attached with {@link addAdapter} add
 * their outputs to slices of y.
 */
export class Linear implements Module {
  /** W (in, out). */
  readonly weight: tf.Variable<tf.Rank.R2>;
  /** b (out), when the layer has a bias. */
  readonly bias: tf.Variable<tf.Rank.R1> | undefined;
  private readonly attached: LinearAdapter[] = [];

  constructor(nIn: number, nOut: number, std: number, bias: boolean, rng: Rng | null) {
    [this.weight, this.bias] = linearParams(nIn, nOut, std, bias, rng);
  }

  /** Input width. */
  get nIn(): number {
    return this.weight.shape[0];
  }

  /** Output width. */
  get nOut(): number {
    return this.weight.shape[1];
  }

  /** x (N, in) → (N, out). */
  forward(x: tf.Tensor2D, training = false, seed = 0): tf.Tensor2D {
    const y = linear(x, this.weight, this.bias); // (N, out)
    if (this.attached.length === 0) return y;
    let out = y; // (N, out)
    this.attached.forEach((a, k) => {
      const [from, to] = a.columns;
      const delta = a.forward(x, training, seed + k); // (N, to − from)
      const padded = tf.pad(delta, [[0, 0], [from, this.nOut - to]]) as tf.Tensor2D; // (N, out), zero outside the slice
      out = tf.add(out, padded); // (N, out)
    });
    return out;
  }

  /** Attaches an adapter; it must fit inside the output columns. */
  addAdapter(adapter: LinearAdapter): void {
    const [from, to] = adapter.columns;
    if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from < to && to <= this.nOut)) {
      throw new Error(`Linear.addAdapter: columns [${from}, ${to}) must lie within the layer's ${this.nOut} outputs.`);
    }
    this.attached.push(adapter);
  }

  /** The attached adapters, in order. */
  get adapters(): readonly LinearAdapter[] {
    return this.attached;
  }

  /** Detaches every adapter and returns them (the caller disposes or keeps them). */
  removeAdapters(): LinearAdapter[] {
    return this.attached.splice(0, this.attached.length);
  }

  /** The base weights: "weight" and, with a bias, "bias" (adapters keep their own). */
  weights(): NamedVariables {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }

  /** Frees W, b and any attached adapters. */
  dispose(): void {
    this.weight.dispose();
    this.bias?.dispose();
    for (const a of this.removeAdapters()) a.dispose();
  }
}
