/**
 * The gradients tinygpt registers in place of @tensorflow/tfjs's (src/grad): each against
 * central finite differences of the kernel itself, and the union package really absent.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TINYGPT_GRADIENTS } from '../src/grad/register.js';
import { createRng } from '../src/util/rng.js';
import { maxDiff, normals } from './helpers.js';

/** Σ f(x)·w for a fixed random w: a scalar whose gradient exercises every output element. */
function probe(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  seed: number,
): { analytic: number[][]; numeric: number[][] } {
  const out = tf.tidy(() => f(...xs));
  const w = tf.tensor(normals(createRng(seed), out.size), out.shape);
  out.dispose();
  const scalar = (...ys: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(f(...ys), w));
  const analytic = tf.tidy(() =>
    tf
      .grads(scalar)(xs)
      .map((g) => Array.from(g.dataSync())),
  );
  // central differences, (L(x + h) − L(x − h)) / 2h, one element at a time; h = 1e-2 in float32
  const h = 1e-2;
  const numeric = xs.map((x, k) => {
    const base = x.dataSync();
    return Array.from(base, (_, i) => {
      const at = (d: number): number =>
        tf.tidy(() => {
          const shifted = Float32Array.from(base);
          shifted[i] += d;
          const args = xs.map((y, j) => (j === k ? tf.tensor(shifted, x.shape) : y));
          return scalar(...args).dataSync()[0];
        });
      return (at(h) - at(-h)) / (2 * h);
    });
  });
  w.dispose();
  return { analytic, numeric };
}

const r = (seed: number, shape: number[], offset = 0): tf.Tensor =>
  tf.tensor(
    normals(
      createRng(seed),
      shape.reduce((a, b) => a * b, 1),
      1,
      offset,
    ),
    shape,
  );

/** |normal| + offset: inputs kept where a function is smooth (ln, √, x^b need x > 0). */
const positive = (seed: number, shape: number[], offset: number): tf.Tensor =>
  tf.tidy(() => tf.add(tf.abs(r(seed, shape)), offset));

/** One case per registered kernel: the op, its inputs (with broadcasting where the kernel allows it). */
const CASES: Record<string, () => [(...xs: tf.Tensor[]) => tf.Tensor, tf.Tensor[]]> = {
  Add: () => [(a, b) => tf.add(a, b), [r(1, [2, 3]), r(2, [3])]],
  Sub: () => [(a, b) => tf.sub(a, b), [r(3, [2, 1]), r(4, [2, 3])]],
  Multiply: () => [(a, b) => tf.mul(a, b), [r(5, [2, 3]), r(6, [1, 3])]],
  RealDiv: () => [(a, b) => tf.div(a, b), [r(7, [2, 3]), r(8, [3], 3)]],
  Pow: () => [(a, b) => tf.pow(a, b), [positive(9, [2, 3], 0.5), r(10, [3])]],
  Neg: () => [(x) => tf.neg(x), [r(11, [4])]],
  Square: () => [(x) => tf.square(x), [r(12, [4])]],
  Sqrt: () => [(x) => tf.sqrt(x), [positive(13, [4], 1)]],
  Rsqrt: () => [(x) => tf.rsqrt(x), [positive(14, [4], 1)]],
  Exp: () => [(x) => tf.exp(x), [r(15, [4])]],
  Log: () => [(x) => tf.log(x), [positive(16, [4], 1)]],
  Tanh: () => [(x) => tf.tanh(x), [r(17, [4])]],
  Sigmoid: () => [(x) => tf.sigmoid(x), [r(18, [4])]],
  Softplus: () => [(x) => tf.softplus(x), [r(23, [4])]],
  PadV2: () => [(x) => tf.pad(x, [[1, 0], [0, 2]]), [r(24, [2, 3])]],
  // values kept away from 0, where relu has no derivative
  Relu: () => [(x) => tf.relu(x), [tf.tensor([-1.5, -0.3, 0.4, 2])]],
  Erf: () => [(x) => tf.erf(x), [r(19, [4])]],
  Cast: () => [(x) => tf.cast(x, 'float32'), [r(20, [3])]],
  Sum: () => [(x) => tf.sum(x, [0, 2]), [r(21, [2, 3, 2])]],
  Mean: () => [(x) => tf.mean(x, -1, true), [r(22, [2, 3])]],
  // distinct values, so the arg max is unique and the function is differentiable
  Max: () => [
    (x) => tf.max(x, 1),
    [
      tf.tensor([
        [0.1, 0.9, -0.5],
        [1.2, -2, 0.3],
      ]),
    ],
  ],
  Softmax: () => [(x) => tf.softmax(x), [r(23, [2, 4])]],
  LogSoftmax: () => [(x) => tf.logSoftmax(x), [r(24, [2, 4])]],
  Reshape: () => [(x) => tf.reshape(x, [3, 2]), [r(25, [2, 3])]],
  Transpose: () => [(x) => tf.transpose(x, [2, 0, 1]), [r(26, [2, 3, 4])]],
  SplitV: () => [
    (x) => {
      const [p, q] = tf.split(x, [1, 2], 1);
      return tf.add(tf.mul(p, 3), tf.sum(q, 1, true));
    },
    [r(27, [2, 3])],
  ],
  Slice: () => [(x) => tf.slice(x, [0, 1], [-1, 2]), [r(28, [2, 4])]],
  Concat: () => [(a, b) => tf.concat([a, b], -1), [r(29, [2, 1]), r(30, [2, 3])]],
  BatchMatMul: () => [(a, b) => tf.matMul(a, b), [r(32, [2, 2, 3]), r(33, [3, 2])]],
};

describe('tinygpt gradients (src/grad)', () => {
  it('are the ones registered, so @tensorflow/tfjs is not what answers', () => {
    for (const config of TINYGPT_GRADIENTS) expect(tf.getGradient(config.kernelName)).toBe(config);
    expect(Object.keys(CASES).sort()).toEqual(TINYGPT_GRADIENTS.map((c) => c.kernelName).sort());
  });

  for (const [name, make] of Object.entries(CASES)) {
    it(`${name} matches central finite differences`, () => {
      const before = tf.memory().numTensors;
      const [f, xs] = make();
      const { analytic, numeric } = probe(f, xs, 100);
      analytic.forEach((g, k) => expect(maxDiff(g, numeric[k])).toBeLessThan(2e-3));
      tf.dispose(xs);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('BatchMatMul covers every transpose combination', () => {
    for (const [ta, tb] of [
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      const a = r(40, ta ? [2, 3, 2] : [2, 2, 3]);
      const b = r(41, tb ? [4, 3] : [3, 4]);
      const { analytic, numeric } = probe((x, y) => tf.matMul(x, y, ta, tb), [a, b], 7);
      analytic.forEach((g, k) => expect(maxDiff(g, numeric[k])).toBeLessThan(2e-3));
      tf.dispose([a, b]);
    }
  });
});
