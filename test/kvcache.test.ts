import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPT } from '../src/model/gpt.js';
import { contextStepper, windowStart } from '../src/sample/context.js';
import { generateAll } from '../src/sample/generate.js';
import { maxDiff, randomTokens } from './helpers.js';

let model: GPT;
beforeAll(() => {
  model = new GPT({ vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, seed: 11 });
  // Weights off their init scale so attention is far from uniform and errors would show.
  tf.tidy(() => {
    for (const [name, v] of model.namedWeights()) {
      if (name.endsWith('.weight') && v.rank === 2) v.assign(tf.mul(v, 10));
    }
  });
});
afterAll(() => model.dispose());

const ids = randomTokens(4, 30, 13);

describe('windowStart', () => {
  it('keeps the window until it outgrows blockSize, then drops tokens in chunks of shift', () => {
    // blockSize 8, shift 3: lengths 1..8 start at 0; length 9 → 9 − 8 + 3 − 1 = 3 (window of 6);
    // it then grows to 8 at length 11 and moves again at length 12 → 12 − 8 + 2 = 6.
    let s = 0;
    const starts = [];
    for (let len = 1; len <= 12; len++) starts.push((s = windowStart(s, len, 8, 3)));
    expect(starts).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 6]);
    // shift 1 is nanoGPT's crop: always the last blockSize tokens.
    expect(windowStart(0, 9, 8, 1)).toBe(1);
    expect(windowStart(1, 10, 8, 1)).toBe(2);
  });
});

describe('KV cache', () => {
  for (const shift of [1, 3, 8]) {
    it(`gives a full forward pass's logits within 1e-5 at every step, past blockSize (shift ${shift})`, () => {
      const before = tf.memory().numTensors;
      const cached = contextStepper(model, shift, true);
      const full = contextStepper(model, shift, false);
      let rebuilds = 0;
      let lastStart = 0;
      for (let len = 1; len <= ids.length; len++) {
        const seq = ids.slice(0, len);
        const a = cached.next(seq);
        const b = full.next(seq);
        expect(cached.start).toBe(full.start);
        if (cached.start !== lastStart) rebuilds++;
        lastStart = cached.start;
        expect(maxDiff(a, b)).toBeLessThan(1e-5);
      }
      expect(rebuilds).toBeGreaterThan(0); // the window did slide and the cache was rebuilt
      cached.dispose();
      full.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('appends several positions at once: forwardCached rows equal the full pass', async () => {
    const cache = model.createCache();
    const x = tf.tensor2d([ids.slice(0, 7)], [1, 7], 'int32');
    const fullLogits = (await model.forward(x).array()) as number[][][];
    const first = model.forwardCached(tf.tensor2d([ids.slice(0, 3)], [1, 3], 'int32'), cache);
    const second = model.forwardCached(tf.tensor2d([ids.slice(3, 7)], [1, 4], 'int32'), cache);
    expect(cache.length).toBe(7);
    const got = [...((await first.array()) as number[][][])[0], ...((await second.array()) as number[][][])[0]];
    got.forEach((row, t) => row.forEach((v, j) => expect(Math.abs(v - fullLogits[0][t][j])).toBeLessThan(1e-5)));
    expect(() => model.forwardCached(tf.tensor2d([[1, 2]], [1, 2], 'int32'), cache)).toThrow(
      /7 cached \+ 2 new positions exceed blockSize 8; reset the cache/,
    );
    tf.dispose([x, first, second]);
    cache.dispose();
  });

  it('generates the same tokens with and without the cache, and keeps numTensors flat over 1,000 tokens', async () => {
    const opts = { maxNewTokens: 40, doSample: true, temperature: 0.9, seed: 7, contextShift: 3 };
    const withCache = await generateAll(model, [1, 2, 3], opts);
    const without = await generateAll(model, [1, 2, 3], { ...opts, cache: false });
    expect(withCache).toEqual(without);
    const before = tf.memory().numTensors;
    const long = await generateAll(model, [5], { maxNewTokens: 1000, doSample: true, temperature: 1, seed: 1 });
    expect(long).toHaveLength(1000);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a contextShift outside [1, blockSize]', async () => {
    await expect(generateAll(model, [1], { maxNewTokens: 1, contextShift: 9 })).rejects.toThrow(
      /contextShift must be an integer in \[1, blockSize = 8\], got 9/,
    );
  });
});
