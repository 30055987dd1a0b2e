import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TextDataset } from '../src/data/dataset.js';
import { GPT } from '../src/model/gpt.js';
import type { TrainOptions } from '../src/train/options.js';
import type { TrainRecord } from '../src/train/records.js';
import { Trainer } from '../src/train/trainer.js';

// The real model and dataset through the Trainer: a 1-layer GPT with dropout on, so the resume
// check also covers the per-step dropout seeds reaching attention and residual dropout.
const TEXT = 'to be or not to be. '.repeat(12);
const VOCAB = [...new Set(TEXT)].sort();
const data = new TextDataset(Int32Array.from(TEXT, (ch) => VOCAB.indexOf(ch)));
const makeModel = (): GPT =>
  new GPT({ vocabSize: VOCAB.length, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0.1, seed: 11 });
const OPTS: TrainOptions = {
  batchSize: 2,
  blockSize: 8,
  maxIters: 6,
  lr: 1e-2,
  minLr: 1e-3,
  warmupIters: 1,
  evalInterval: 100,
  evalIters: 1,
  logInterval: 1,
  seed: 5,
};

async function stepLosses(it: AsyncIterable<TrainRecord>, stopAfter = Infinity): Promise<number[]> {
  const out: number[] = [];
  for await (const r of it) {
    if (r.kind !== 'step') continue;
    out.push(r.loss);
    if (r.step >= stopAfter) break;
  }
  return out;
}

describe('Trainer with GPT and TextDataset', () => {
  it('resumes a GPT run exactly and keeps numTensors flat', async () => {
    const a = makeModel();
    const ta = new Trainer(a, data, OPTS);
    const base = tf.memory().numTensors;
    const straight = await stepLosses(ta.run());
    expect(straight).toHaveLength(6);
    expect(straight.every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors).toBe(base);

    const b = makeModel();
    const tb = new Trainer(b, data, OPTS);
    const head = await stepLosses(tb.run(), 3);
    const state = structuredClone(tb.state());
    const weights = new Map([...b.namedWeights()].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    tb.dispose();
    b.dispose();

    const c = makeModel();
    for (const [k, v] of c.namedWeights()) v.assign(tf.tensor(weights.get(k)!, v.shape));
    const tc = Trainer.restore(c, data, OPTS, state);
    const tail = await stepLosses(tc.run());
    expect([...head, ...tail]).toEqual(straight);
    for (const t of [ta, tc]) t.dispose();
    for (const m of [a, c]) m.dispose();
  });
});
