import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng.js';

/** A module's trainable weights under local names, in a stable order. */
export type NamedVariables = Array<readonly [string, tf.Variable]>;

/** Anything that owns weights: it lists them and frees them. */
export interface Module {
  /** The module's variables, named relative to the module (e.g. "c_attn.weight"). */
  weights(): NamedVariables;
  /** Frees every tensor the module owns. */
  dispose(): void;
}

/** A trainable variable drawn from N(0, std²) with the shared Rng (never Math.random). */
export function normalVariable(shape: number[], std: number, rng: Rng): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
  // tidy frees the temporary tensor; the variable (never disposed by tidy) keeps its own copy.
  return tf.tidy(() => tf.variable(tf.tensor(data, shape, 'float32'), true));
}

/** A trainable variable filled with one value (LayerNorm gains 1, biases 0). */
export function constantVariable(shape: number[], value: number): tf.Variable {
  return tf.tidy(() => tf.variable(tf.fill(shape, value, 'float32'), true));
}

/** Prefixes a child module's names: ("h.0.", ["ln_1.weight", v]) → ["h.0.ln_1.weight", v]. */
export function prefixed(prefix: string, named: NamedVariables): NamedVariables {
  return named.map(([name, v]) => [prefix + name, v] as const);
}

/** Dropout that is the identity outside training or at rate 0, seeded when on. */
export function maybeDropout<T extends tf.Tensor>(x: T, rate: number, training: boolean, seed: number): T {
  return training && rate > 0 ? (tf.dropout(x, rate, undefined, seed) as T) : x;
}
