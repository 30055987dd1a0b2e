import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from './helpers.js';
import { clipByGlobalNorm, globalNormScale, heapNormScale } from '../src/train/clip.js';
import { wasmSumSquares } from '../src/ops/wasm/sumSquares.js';


// ‖g‖² = (1² + 2²) + (2² + 4²) = 5 + 20 = 25, so the global norm is 5.
function known(): Map<string, tf.Tensor> {
  return new Map<string, tf.Tensor>([
    ['a', tf.tensor1d([1, 2])],
    ['b', tf.tensor2d([[2], [4]])],
  ]);
}

describe('clipByGlobalNorm', () => {
  it('scales every gradient by maxNorm/‖g‖ when the norm is too large', () => {
    const g = known();
    const base = tf.memory().numTensors;
    const { grads, norm } = clipByGlobalNorm(g, 1);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
    // scale = 1/(5 + 1e-6) = 0.19999996 → a = [0.2, 0.4], b = [[0.4], [0.8]]
    expectClose(grads.get('a')!.dataSync(), [0.2, 0.4], 1e-6);
    expectClose(grads.get('b')!.dataSync(), [0.4, 0.8], 1e-6);
    expect(grads.get('b')!.shape).toEqual([2, 1]);
    // the clipped global norm is maxNorm: √(0.2² + 0.4² + 0.4² + 0.8²) = √1 = 1
    const flat = [...grads.get('a')!.dataSync(), ...grads.get('b')!.dataSync()];
    expect(Math.sqrt(flat.reduce((s, x) => s + x * x, 0))).toBeCloseTo(1, 5);
    // outputs are three new tensors (norm, a, b); nothing else is left behind
    expect(tf.memory().numTensors).toBe(base + 3);
    tf.dispose([norm, ...grads.values()]);
    expect(tf.memory().numTensors).toBe(base);
    // the inputs are the caller's and stay valid
    expectClose(g.get('a')!.dataSync(), [1, 2], 1e-6);
    tf.dispose([...g.values()]);
  });

  it('leaves gradients unchanged when the norm is within the bound', () => {
    const g = known();
    const { grads, norm } = clipByGlobalNorm(g, 10);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
    // scale = min(1, 10/5) = 1
    expectClose(grads.get('a')!.dataSync(), [1, 2], 1e-6);
    expectClose(grads.get('b')!.dataSync(), [2, 4], 1e-6);
    tf.dispose([norm, ...grads.values(), ...g.values()]);
  });

  it('rejects a non-positive bound and an empty map', () => {
    const g = known();
    expect(() => clipByGlobalNorm(g, 0)).toThrow(/maxNorm must be a finite number > 0, got 0; to disable clipping, skip the call/);
    expect(() => clipByGlobalNorm(g, Number.NaN)).toThrow(/maxNorm/);
    expect(() => clipByGlobalNorm(new Map(), 1)).toThrow(/no gradients/);
    tf.dispose([...g.values()]);
  });
});

describe('globalNormScale', () => {
  it('gives the norm and the clip factor without touching the gradients', () => {
    const g = known();
    const base = tf.memory().numTensors;
    // ‖g‖ = √(1² + 2² + 2² + 4²) = 5; factor min(1, 1/(5 + 1e-6)) = 0.19999996 and min(1, 10/5) = 1
    const tight = globalNormScale(g, 1);
    const loose = globalNormScale(g, 10);
    expect(tight.norm.dataSync()[0]).toBeCloseTo(5, 5);
    expect(tight.scale.dataSync()[0]).toBeCloseTo(1 / (5 + 1e-6), 7);
    expect(loose.scale.dataSync()[0]).toBe(1);
    expect(tf.memory().numTensors).toBe(base + 4); // two scalars each, owned by the caller
    tf.dispose([tight.norm, tight.scale, loose.norm, loose.scale]);
    expectClose(g.get('b')!.dataSync(), [2, 4], 1e-6); // the gradients as they were
    expect(() => globalNormScale(g, 0)).toThrow(/maxNorm must be a finite number > 0/);
    tf.dispose([...g.values()]);
  });
});


describe('heapNormScale', () => {
  it('reads the norm and factor off the wasm heap as numbers (undefined elsewhere)', () => {
    // a = [1, 2, 3, 4, 5]: the kernel takes 1 + 4 + 9 + 16 = 30 (one block of four), JS adds 25 → 55;
    // b = [[2, 2, 1]]: 4 + 4 + 1 = 9 (JS only, under four elements). ‖g‖ = √(55 + 9) = 8,
    // factor min(1, 2/(8 + 1e-6)) = 0.2499999688 and min(1, 10/8) = 1.
    const g = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([1, 2, 3, 4, 5])],
      ['b', tf.tensor2d([[2, 2, 1]])],
    ]);
    const base = tf.memory().numTensors;
    const tight = heapNormScale(g, 2);
    const loose = heapNormScale(g, 10);
    if (tf.getBackend() !== 'wasm') {
      expect(tight).toBeUndefined();
      expect(wasmSumSquares(g.get('a')!)).toBeUndefined();
    } else {
      expect(wasmSumSquares(g.get('a')!)).toBe(55);
      expect(tight?.norm).toBe(8);
      expect(tight?.scale).toBeCloseTo(2 / (8 + 1e-6), 12);
      expect(loose?.scale).toBe(1);
      // The same as the tensor version (float32 there), and the gradients are as they were.
      const t = globalNormScale(g, 2);
      expect(t.scale.dataSync()[0]).toBeCloseTo(tight?.scale ?? 0, 7);
      tf.dispose([t.norm, t.scale]);
      expect(Array.from(g.get('a')!.dataSync())).toEqual([1, 2, 3, 4, 5]);
    }
    expect(heapNormScale(g, 0)).toBeUndefined(); // globalNormScale is the one that explains
    expect(tf.memory().numTensors).toBe(base);
    tf.dispose([...g.values()]);
  });
});
