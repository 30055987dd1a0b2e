import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { overwriteOnHeap, readFromHeap } from '../src/ops/wasm/heapCopy.js';
import { assignFromFlat, flatLayout } from '../src/train/parallel/layout.js';

const onWasm = () => tf.getBackend() === 'wasm';

describe('heap copies (src/ops/wasm/heapCopy.ts)', () => {
  it('overwrites a sole-owned variable in place, and the next product reads the new values', () => {
    const init = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const v = tf.variable(init); // W (2, 2), sharing init's data until init is disposed
    expect(overwriteOnHeap(v, new Float32Array(4), 0)).toBe(false);
    init.dispose();
    const a = tf.tensor2d([1, 1], [1, 2]); // (1, 2)
    const before = tf.matMul(a, v); // [1+3, 2+4] = [4, 6]; XNNPACK packs W here on wasm
    const src = new Float32Array([9, 5, 6, 7, 8, 9]);
    const start = tf.memory().numTensors;
    const wrote = overwriteOnHeap(v, src, 1); // W ← [[5, 6], [7, 8]]
    expect(wrote).toBe(onWasm());
    if (wrote) {
      expect(tf.memory().numTensors).toBe(start);
      expect([...v.dataSync()]).toEqual([5, 6, 7, 8]);
      // A stale packed copy of W would still give [4, 6]; the new W gives [5+7, 6+8] = [12, 14].
      const after = tf.matMul(a, v);
      expect([...after.dataSync()]).toEqual([12, 14]);
      after.dispose();
    }
    expect([...before.dataSync()]).toEqual([4, 6]);
    tf.dispose([v, a, before]);
  });

  it('leaves a tensor that shares its data with another alone', () => {
    const v = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const alias = tf.reshape(v, [3, 1]); // shares v's data id on every backend
    expect(overwriteOnHeap(v, new Float32Array([7, 7, 7]), 0)).toBe(false);
    expect([...alias.dataSync()]).toEqual([1, 2, 3]);
    tf.dispose([v, alias]);
  });

  it('reads a tensor into a buffer at an offset', () => {
    const t = tf.tensor1d([4, 5]);
    const dst = new Float32Array(4);
    const read = readFromHeap(t, dst, 1);
    expect(read).toBe(onWasm());
    expect([...dst]).toEqual(read ? [0, 4, 5, 0] : [0, 0, 0, 0]);
    t.dispose();
  });

  it('assignFromFlat gives the same weights in place and by assign', () => {
    const make = () =>
      new Map([
        ['a', tf.tidy(() => tf.variable(tf.zeros([2, 3])))],
        ['b', tf.tidy(() => tf.variable(tf.zeros([4])))],
      ]);
    const layout = flatLayout([
      ['a', [2, 3]],
      ['b', [4]],
    ]);
    const flat = Float32Array.from({ length: 10 }, (_, i) => i / 4);
    const [byAssign, inPlace] = [make(), make()];
    const start = tf.memory().numTensors;
    assignFromFlat(layout, flat, byAssign);
    assignFromFlat(layout, flat, inPlace, true);
    expect(tf.memory().numTensors).toBe(start);
    for (const name of ['a', 'b']) {
      expect([...(inPlace.get(name) as tf.Variable).dataSync()]).toEqual([...(byAssign.get(name) as tf.Variable).dataSync()]);
    }
    expect([...(inPlace.get('b') as tf.Variable).dataSync()]).toEqual([1.5, 1.75, 2, 2.25]); // flat[6..9] = 6/4..9/4
    // The weights own their values: the flat buffer (shared memory other threads write) moving on
    // leaves them as they were, on a backend that copies (wasm) and one that keeps arrays (cpu).
    flat.fill(-1);
    expect([...(byAssign.get('b') as tf.Variable).dataSync()]).toEqual([1.5, 1.75, 2, 2.25]);
    expect([...(inPlace.get('a') as tf.Variable).dataSync()]).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    tf.dispose([...byAssign.values(), ...inPlace.values()]);
  });
});
