import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { gelu, geluTanh, silu } from '../src/ops/activations.js';
import { crossEntropy } from '../src/ops/crossEntropy.js';
import { embedding } from '../src/ops/embedding.js';
import { layerNorm } from '../src/ops/layerNorm.js';
import { batchMatMul, linear, matMul2d } from '../src/ops/matmul.js';
import { createRng } from '../src/util/rng.js';
import { expectClose, maxRelDiff, normals, take } from './helpers.js';
import * as REFERENCE from './reference/ops.js';

// Every hand-computed case runs on the library's ops (hand-written gradients) and on the plain
// autograd reference of test/reference/ops.ts, so both are checked against the same arithmetic.
const LIBRARY = { gelu, geluTanh, silu, layerNorm, crossEntropy, embedding, linear, matMul2d, batchMatMul };
describe.each([
  ['library', LIBRARY],
  ['reference', REFERENCE],
] as const)('ops (%s)', (_label, ops) => {

  it('matMul2d: value and both gradients of sum(A·B)', () => {
    const a = tf.tensor2d([[1, 2], [3, 4]]); // (2, 2)
    const b = tf.tensor2d([[5, 6], [7, 8]]); // (2, 2)
    // [[1·5+2·7, 1·6+2·8], [3·5+4·7, 3·6+4·8]] = [[19, 22], [43, 50]]
    expectClose(take(ops.matMul2d(a, b)), [19, 22, 43, 50]);
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(ops.matMul2d(x as tf.Tensor2D, y as tf.Tensor2D)))([a, b]);
    // dA = 1·Bᵀ: each row holds B's row sums, [5+6, 7+8] = [11, 15].
    expectClose(take(da), [11, 15, 11, 15]);
    // dB = Aᵀ·1: row k holds column k of A summed, [1+3, 1+3] and [2+4, 2+4].
    expectClose(take(db), [4, 4, 6, 6]);
    tf.dispose([a, b]);
  });

  it('batchMatMul multiplies each batch item and back-propagates per item', () => {
    const a = tf.tensor3d([[[1, 2]], [[3, 4]]]); // (2, 1, 2)
    const b = tf.tensor3d([[[1], [1]], [[2], [-1]]]); // (2, 2, 1)
    // item 0: 1·1 + 2·1 = 3; item 1: 3·2 + 4·(−1) = 2
    expectClose(take(ops.batchMatMul(a, b)), [3, 2]);
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(ops.batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D)))([a, b]);
    // dA[g] = B[g]ᵀ: [1, 1] and [2, −1]; dB[g] = A[g]ᵀ: [1, 2]ᵀ and [3, 4]ᵀ.
    expectClose(take(da), [1, 1, 2, -1]);
    expectClose(take(db), [1, 2, 3, 4]);
    tf.dispose([a, b]);
  });

  it('linear adds the bias to x·W (Conv1D layout: W is (in, out))', () => {
    const x = tf.tensor2d([[1, -1]]); // (1, 2)
    const w = tf.tensor2d([[1, 2, 3], [4, 5, 6]]); // (2, 3)
    const b = tf.tensor1d([0.5, 0, -0.5]); // (3)
    // x·W = [1−4, 2−5, 3−6] = [−3, −3, −3]; + b = [−2.5, −3, −3.5]
    expectClose(take(ops.linear(x, w, b)), [-2.5, -3, -3.5]);
    expectClose(take(ops.linear(x, w)), [-3, -3, -3]);
    tf.dispose([x, w, b]);
  });

  it('gelu is exact x·Φ(x), with derivative Φ(x) + x·φ(x)', () => {
    const x = tf.tensor1d([-1, -0.5, 0, 1, 2]); // (5)
    // Φ(−1) = 0.158655 → −0.158655; Φ(−0.5) = 0.308538 → −0.154269; 0; Φ(1) = 0.841345; 2·Φ(2) = 2·0.977250
    expectClose(take(ops.gelu(x)), [-0.158655, -0.154269, 0, 0.841345, 1.9545], 2e-6);
    // φ(1) = e^{−1/2}/√(2π) = 0.241971, φ(0.5) = 0.352065, φ(2) = 0.053991:
    // −1: 0.158655 − 0.241971 = −0.083316; −0.5: 0.308538 − 0.5·0.352065 = 0.132505;
    // 0: 0.5; 1: 0.841345 + 0.241971 = 1.083316; 2: 0.977250 + 2·0.053991 = 1.085232
    const g = tf.grad((t: tf.Tensor) => tf.sum(ops.gelu(t)))(x);
    expectClose(take(g), [-0.083315, 0.132505, 0.5, 1.083315, 1.085232], 2e-5);
    x.dispose();
  });

  it('geluTanh is GPT-2\'s ½x(1 + tanh(√(2/π)(x + 0.044715x³))) with its derivative', () => {
    const x = tf.tensor1d([-1, -0.5, 0, 1, 2]); // (5)
    // x = 1: u = 0.797885·1.044715 = 0.833562, tanh u = 0.682384 → ½·1.682384 = 0.841192
    // x = −1 is odd-symmetric: ½·(−1)·(1 − 0.682384) = −0.158808
    // x = −0.5: u = 0.797885·(−0.505589) = −0.403402, tanh = −0.382856 → −0.25·0.617144 = −0.154286
    // x = 2: u = 0.797885·2.35772 = 1.881188, tanh = 0.954598 → 1.954598
    expectClose(take(ops.geluTanh(x)), [-0.158808, -0.154286, 0, 0.841192, 1.954598], 2e-6);
    // x = 1: ½(1 + 0.682384) + ½·(1 − 0.682384²)·0.797885·(1 + 3·0.044715) = 0.841192 + 0.241772 = 1.082964
    const g = tf.grad((t: tf.Tensor) => tf.sum(ops.geluTanh(t)))(x);
    expectClose(take(g), [-0.082964, 0.13263, 0.5, 1.082964, 1.086099], 2e-5);
    x.dispose();
  });

  it('silu is x·σ(x)', () => {
    const x = tf.tensor1d([-1, 0, 1, 2]); // (4)
    // σ(1) = 1/(1 + e^{−1}) = 0.731059; −1·σ(−1) = −0.268941; 2·σ(2) = 2·0.880797 = 1.761594
    expectClose(take(ops.silu(x)), [-0.268941, 0, 0.731059, 1.761594], 2e-6);
    x.dispose();
  });

  it('layerNorm: hand value and closed-form gradient for the row [1, 2, 3, 4]', () => {
    const x = tf.tensor2d([[1, 2, 3, 4]]); // (1, 4)
    const gamma = tf.tensor1d([1, 2, 0.5, -1]); // (4)
    const beta = tf.tensor1d([0.1, 0, -0.2, 0.3]); // (4)
    // μ = 2.5, σ² = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25, rstd = 1/√(1.25 + 1e-5) = 0.894424
    // x̂ = [−1.5, −0.5, 0.5, 1.5]·rstd = [−1.341635, −0.447212, 0.447212, 1.341635]
    // y = γx̂ + β = [−1.341635 + 0.1, −0.894424, 0.223606 − 0.2, −1.341635 + 0.3]
    expectClose(take(ops.layerNorm(x, gamma, beta, 1e-5)), [-1.241635, -0.894424, 0.023606, -1.041635], 2e-5);
    expectClose(take(ops.layerNorm(x, gamma, undefined, 1e-5)), [-1.341635, -0.894424, 0.223606, -1.341635], 2e-5);
    const [dx, dg, db] = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(ops.layerNorm(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5)),
    )([x, gamma, beta]);
    // dy = 1, so g = γ: mean(g) = 2.5/4 = 0.625; mean(g·x̂) = (−1.341635 − 0.894424 + 0.223606 − 1.341635)/4 = −0.838522
    // g − 0.625 + 0.838522·x̂ = [1 − 0.625 − 1.125, 2 − 0.625 − 0.375, 0.5 − 0.625 + 0.375, −1 − 0.625 + 1.125]
    //                        = [−0.75, 1, 0.25, −0.5]; × rstd 0.894424:
    expectClose(take(dx), [-0.670818, 0.894424, 0.223606, -0.447212], 5e-5);
    expectClose(take(dg), [-1.341635, -0.447212, 0.447212, 1.341635], 2e-5); // Σ dy·x̂
    expectClose(take(db), [1, 1, 1, 1]); // Σ dy
    tf.dispose([x, gamma, beta]);
  });

  it('crossEntropy: mean −ln p(target) and gradient (softmax − onehot)/N', () => {
    const ln2 = Math.log(2);
    const ln3 = Math.log(3);
    const logits = tf.tensor2d([[0, 0, ln2], [ln3, 0, 0]]); // (2, 3)
    const targets = tf.tensor1d([2, 1], 'int32'); // (2)
    // row 0: softmax = [1, 1, 2]/4 → −ln(1/2) = 0.693147; row 1: [3, 1, 1]/5 → −ln(1/5) = 1.609438
    // mean = (0.693147 + 1.609438)/2 = 1.151293
    expectClose(take(ops.crossEntropy(logits, targets)), [1.151293], 2e-6);
    const g = tf.grad((z: tf.Tensor) => ops.crossEntropy(z as tf.Tensor2D, targets))(logits);
    // row 0: ([0.25, 0.25, 0.5] − [0, 0, 1])/2; row 1: ([0.6, 0.2, 0.2] − [0, 1, 0])/2
    expectClose(take(g), [0.125, 0.125, -0.25, 0.3, -0.4, 0.1], 2e-6);
    tf.dispose([logits, targets]);
  });

  it('crossEntropy is stable for huge logits (shifted by the row max)', () => {
    const logits = tf.tensor2d([[1000, 0, -1000], [1000, 0, -1000]]); // (2, 3)
    const targets = tf.tensor1d([0, 1], 'int32'); // (2)
    // row 0: −ln(1/(1 + e^{−1000} + e^{−2000})) ≈ 0; row 1: 1000 − 0 = 1000; mean 500
    expectClose(take(ops.crossEntropy(logits, targets)), [500], 1e-3);
    tf.dispose([logits, targets]);
  });

  it('embedding gathers rows and scatters the gradient back, summing repeats', () => {
    const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]); // (3, 2)
    const ids = tf.tensor1d([2, 0, 2], 'int32'); // (3)
    expectClose(take(ops.embedding(table, ids)), [5, 6, 1, 2, 5, 6]);
    const w = tf.tensor2d([[1, 1], [10, 10], [100, 100]]); // (3, 2) upstream gradient
    const g = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(ops.embedding(e as tf.Tensor2D, ids), w)))(table);
    // row 0 is looked up at position 1 (weight 10); row 2 at positions 0 and 2 (1 + 100); row 1 never
    expectClose(take(g), [10, 10, 0, 0, 101, 101]);
    tf.dispose([table, ids, w]);
  });

  it('embedding over a large vocabulary (Gather, scatter-add gradient) gives the same rows and sums', () => {
    const vocab = 300; // above the one-hot limit of 256
    const table = tf.tidy(() => tf.reshape(tf.range(0, 2 * vocab), [vocab, 2])) as tf.Tensor2D; // row i = (2i, 2i + 1)
    const ids = tf.tensor1d([299, 0, 299, 7], 'int32'); // (4)
    expectClose(take(ops.embedding(table, ids)), [598, 599, 0, 1, 598, 599, 14, 15]);
    const w = tf.tensor2d([[1, 1], [10, 10], [100, 100], [1000, 1000]]); // (4, 2) upstream gradient
    const g = take(tf.grad((e: tf.Tensor) => tf.sum(tf.mul(ops.embedding(e as tf.Tensor2D, ids), w)))(table));
    // row 0 at position 1 (10); row 7 at position 3 (1000); row 299 at positions 0 and 2 (1 + 100); the rest 0
    const expected = new Array<number>(2 * vocab).fill(0);
    for (const [row, v] of [[0, 10], [7, 1000], [299, 101]]) expected[2 * row] = expected[2 * row + 1] = v;
    expectClose(g, expected);
    tf.dispose([table, ids, w]);
  });

  it('leaves no tensors behind after forward and backward', () => {
    const rng = createRng(3);
    const x = tf.tensor2d(normals(rng, 12), [3, 4]); // (3, 4)
    const w = tf.tensor2d(normals(rng, 20), [4, 5]); // (4, 5)
    const gamma = tf.tensor1d(normals(rng, 4, 0.1, 1)); // (4)
    const beta = tf.tensor1d(normals(rng, 4)); // (4)
    const targets = tf.tensor1d([0, 4, 2], 'int32'); // (3)
    const before = tf.memory().numTensors;
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => {
      const h = ops.layerNorm(a as tf.Tensor2D, g as tf.Tensor1D, be as tf.Tensor1D, 1e-5); // (3, 4)
      return ops.crossEntropy(ops.geluTanh(ops.matMul2d(ops.gelu(h), b as tf.Tensor2D)), targets); // ()
    })([x, w, gamma, beta]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, gamma, beta, targets]);
  });
});

describe('the library ops and the autograd reference agree on random inputs', () => {
  it('layerNorm → matMul → each activation → crossEntropy: same values and gradients', () => {
    const rng = createRng(11);
    const x = tf.tensor2d(normals(rng, 5 * 6, 2, 0.5), [5, 6]); // (5, 6)
    const w = tf.tensor2d(normals(rng, 6 * 7), [6, 7]); // (6, 7)
    const table = tf.tensor2d(normals(rng, 7 * 6), [7, 6]); // (7, 6)
    const gamma = tf.tensor1d(normals(rng, 6, 0.3, 1)); // (6)
    const beta = tf.tensor1d(normals(rng, 6, 0.3)); // (6)
    const ids = tf.tensor1d([1, 6, 0, 1, 3], 'int32'); // (5)
    const targets = tf.tensor1d([3, 0, 6, 2, 2], 'int32'); // (5)
    const acts = ['gelu', 'geluTanh', 'silu', 'relu'] as const;
    for (const act of acts) {
      const run = (ops: typeof LIBRARY) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor, e: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => {
          const emb = tf.add(a, ops.embedding(e as tf.Tensor2D, ids)) as tf.Tensor2D; // (5, 6)
          const h = ops.layerNorm(emb, g as tf.Tensor1D, be as tf.Tensor1D, 1e-5); // (5, 6)
          const z = ops.matMul2d(act === 'relu' ? tf.relu(h) : ops[act](h), b as tf.Tensor2D); // (5, 7)
          return ops.crossEntropy(z, targets); // ()
        })([x, w, table, gamma, beta]);
      const fast = run(LIBRARY).map(take);
      const plain = run(REFERENCE).map(take);
      fast.forEach((g, i) => expect(maxRelDiff(g, plain[i])).toBeLessThan(1e-5));
    }
    tf.dispose([x, w, table, gamma, beta, ids, targets]);
  });
});
