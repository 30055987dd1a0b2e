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

/**
 * A trainable variable drawn from N(0, std²) with the shared Rng (never Math.random); with no Rng
 * (a model about to be loaded from a file) it is zeros, which costs nothing to draw.
 */
export function normalVariable(shape: number[], std: number, rng: Rng | null): tf.Variable {
  if (rng === null) return tf.tidy(() => tf.variable(tf.zeros(shape, 'float32'), true));
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

/** A linear layer's weight W (in, out) and optional bias b (out). */
export type LinearParams = readonly [tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R1> | undefined];

/** W ~ N(0, std²) (in, out) and, when asked, b = 0: the GPT-2 initialisation of a linear layer. */
export function linearParams(nIn: number, nOut: number, std: number, bias: boolean, rng: Rng | null): LinearParams {
  const w = normalVariable([nIn, nOut], std, rng) as tf.Variable<tf.Rank.R2>;
  return [w, bias ? (constantVariable([nOut], 0) as tf.Variable<tf.Rank.R1>) : undefined];
}

/** Prefixes a child module's names: ("h.0.", ["ln_1.weight", v]) → ["h.0.ln_1.weight", v]. */
export function prefixed(prefix: string, named: NamedVariables): NamedVariables {
  return named.map(([name, v]) => [prefix + name, v] as const);
}

/** Dropout that is the identity outside training or at rate 0, seeded when on. */
export function maybeDropout<T extends tf.Tensor>(x: T, rate: number, training: boolean, seed: number): T {
  return training && rate > 0 ? (tf.dropout(x, rate, undefined, seed) as T) : x;
}
