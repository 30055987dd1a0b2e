import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { RotaryEmbedding } from '../src/attention/rope.js';
import { rmsNorm } from '../src/ops/rmsNorm.js';

const close = (a: ArrayLike<number>, b: number[], tol = 1e-5) =>
  b.forEach((v, i) => expect(Math.abs(a[i] - v)).toBeLessThan(tol));

describe('RotaryEmbedding', () => {
  it('rotates each (i, i + d/2) pair by p·base^(−2i/d), by hand', () => {
    // d = 4, base 100: θ_0 = 1, θ_1 = 100^(−1/2) = 0.1.
    const rope = new RotaryEmbedding(4, 8, 100);
    const x = tf.tensor2d([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]); // positions 0, 1, 2
    const y = rope.apply(x).dataSync();
    // p = 0: identity.
    close(y.subarray(0, 4), [1, 2, 3, 4]);
    // p = 1: pair (x0, x2) = (1, 3) by 1 rad, pair (x1, x3) = (2, 4) by 0.1 rad:
    // x0' = 1·cos1 − 3·sin1 = 0.540302 − 2.524413 = −1.984111; x2' = 3·cos1 + 1·sin1 = 1.620907 + 0.841471 = 2.462378
    // x1' = 2·cos0.1 − 4·sin0.1 = 1.990008 − 0.399334 = 1.590674; x3' = 4·cos0.1 + 2·sin0.1 = 3.980017 + 0.199667 = 4.179684
    close(y.subarray(4, 8), [-1.984111, 1.590674, 2.462378, 4.179684]);
    // p = 2: x0' = cos2 − 3 sin2 = −0.416147 − 2.727892 = −3.144039; x2' = 3cos2 + sin2 = −1.248441 + 0.909297 = −0.339144
    close(y.subarray(8, 12), [-3.144039, 2 * Math.cos(0.2) - 4 * Math.sin(0.2), -0.339144, 4 * Math.cos(0.2) + 2 * Math.sin(0.2)]);
    x.dispose();
    rope.dispose();
  });

  it('keeps norms and makes q·k depend only on the relative position', () => {
    const rope = new RotaryEmbedding(8, 32);
    const q = tf.tensor2d([[0.3, -1.2, 0.5, 2.0, -0.7, 0.1, 1.1, -0.4]]);
    const k = tf.tensor2d([[1.0, 0.2, -0.3, 0.8, 0.5, -1.5, 0.4, 0.9]]);
    const dot = (m: number, n: number) =>
      tf.tidy(() => tf.sum(tf.mul(rope.apply(q, m), rope.apply(k, n))).dataSync()[0]);
    // Same offset m − n = 3 at different absolute positions: equal scores.
    expect(dot(5, 2)).toBeCloseTo(dot(20, 17), 4);
    expect(dot(3, 0)).toBeCloseTo(dot(10, 7), 4);
    // A different offset gives a different score (the rotation is not trivial).
    expect(Math.abs(dot(5, 2) - dot(5, 4))).toBeGreaterThan(1e-3);
    const norm = (t: tf.Tensor) => tf.tidy(() => tf.norm(t).dataSync()[0]);
    const rotated = rope.apply(q, 13);
    expect(norm(rotated)).toBeCloseTo(norm(q), 5);
    rotated.dispose();
    q.dispose();
    k.dispose();
    rope.dispose();
  });

  it('rotates rows given at an offset like the same rows of a longer sequence (a cached step)', () => {
    // Rows 3..4 rotated with offset 3 must equal rows 3..4 of the 5-row sequence rotated from 0.
    const rope = new RotaryEmbedding(4, 8, 50);
    const x = tf.tensor4d(Array.from({ length: 2 * 5 * 4 }, (_, i) => Math.sin(i)), [1, 2, 5, 4]); // (B, nh, T, d)
    const whole = tf.tidy(() => tf.slice(rope.apply(x), [0, 0, 3, 0], [1, 2, 2, 4])); // (1, 2, 2, 4)
    const tail = tf.slice(x, [0, 0, 3, 0], [1, 2, 2, 4]); // (1, 2, 2, 4)
    const shifted = rope.apply(tail, 3);
    close(shifted.dataSync(), Array.from(whole.dataSync()), 1e-6);
    tf.dispose([x, whole, tail, shifted]);
    rope.dispose();
  });

  it('rejects odd head sizes and positions past the table', () => {
    expect(() => new RotaryEmbedding(5, 8)).toThrow(/even head dimension/);
    const rope = new RotaryEmbedding(4, 4);
    const x = tf.zeros([3, 4]);
    expect(() => rope.apply(x, 2)).toThrow(/positions 2\.\.4 exceed the table of 4/);
    x.dispose();
    rope.dispose();
  });
});

describe('rmsNorm', () => {
  it('divides by the root mean square, by hand', () => {
    // x = [1, 2, 3, 4]: mean(x²) = (1 + 4 + 9 + 16)/4 = 7.5, √7.5 = 2.738613
    // γ = [1, 1, 2, 0.5]: y = [0.365148, 0.730297, 2.190890, 0.730297]
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    const g = tf.tensor1d([1, 1, 2, 0.5]);
    const y = rmsNorm(x, g, 0);
    close(y.dataSync(), [0.365148, 0.730297, 2.19089, 0.730297]);
    tf.dispose([x, g, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
