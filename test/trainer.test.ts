import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { resolveConfig, type ResolvedGPTConfig } from '../src/config/config.js';
import type { ForwardOptions, LanguageModel } from '../src/model/types.js';
import { accumulateGradients } from '../src/train/accumulate.js';
import { estimateLoss, type BatchSource } from '../src/train/evaluate.js';
import type { StepRecord, TrainRecord } from '../src/train/records.js';
import { Trainer } from '../src/train/trainer.js';
import { createRng, type Rng } from '../src/util/rng.js';
import type { TrainOptions } from '../src/train/options.js';

/** Bigram LM: logits for the next token are row ids of a (V, V) table plus a (V) bias. */
class Bigram implements LanguageModel {
  readonly config: ResolvedGPTConfig;
  readonly table: tf.Variable;
  readonly bias: tf.Variable;

  constructor(vocabSize: number, init: 'random' | 'zero' = 'random', dropout = 0.1) {
    this.config = resolveConfig({ vocabSize, blockSize: 16, nLayer: 1, nHead: 1, nEmbd: 1, dropout, seed: 7 });
    const rng = createRng(this.config.seed);
    const w = Float32Array.from({ length: vocabSize * vocabSize }, () => (init === 'zero' ? 0 : 0.1 * rng.normal()));
    this.table = tf.variable(tf.tensor2d(w, [vocabSize, vocabSize]), true); // (V, V)
    this.bias = tf.variable(tf.zeros([vocabSize]), true); // (V)
  }

  forward(ids: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T] = ids.shape;
      const V = this.config.vocabSize;
      // A one-hot matmul rather than tf.gather: wasm has no kernel for gather's gradient.
      const onehot = tf.cast(tf.oneHot(tf.reshape(ids, [B * T]), V), 'float32'); // (B·T, V)
      const rows = tf.reshape(tf.matMul(onehot, this.table), [B, T, V]); // (B, T, V)
      const logits = tf.add(rows, this.bias) as tf.Tensor3D; // (B, T, V)
      const p = this.config.dropout;
      // Dropout makes the resume test also check that per-step dropout seeds are restored.
      return options.training && p > 0 ? (tf.dropout(logits, p, undefined, options.seed) as tf.Tensor3D) : logits; // (B, T, V)
    });
  }

  loss(ids: tf.Tensor2D, targets: tf.Tensor2D, options: ForwardOptions = {}): tf.Scalar {
    return tf.tidy(() => {
      const logp = tf.logSoftmax(this.forward(ids, options)); // (B, T, V)
      const onehot = tf.cast(tf.oneHot(targets, this.config.vocabSize), 'float32'); // (B, T, V)
      return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), -1))) as tf.Scalar; // ()
    });
  }

  namedWeights(): Map<string, tf.Variable> {
    return new Map([['table', this.table], ['bias', this.bias]]);
  }

  numParams(): number {
    return this.table.size + this.bias.size;
  }

  dispose(): void {
    tf.dispose([this.table, this.bias]);
  }
}

type Split = 'train' | 'val';

/** Character-level batches from a tiny text: 80% train, 20% val. */
class CharData implements BatchSource {
  readonly vocab: string[];
  private readonly splits: Record<Split, Int32Array>;

  constructor(text: string) {
    this.vocab = [...new Set(text)].sort();
    const ids = Int32Array.from(text, (ch) => this.vocab.indexOf(ch));
    const n = Math.floor(ids.length * 0.8);
    this.splits = { train: ids.slice(0, n), val: ids.slice(n) };
  }

  getBatch(split: Split, batchSize: number, blockSize: number, rng: Rng): { x: tf.Tensor2D; y: tf.Tensor2D } {
    const data = this.splits[split];
    const x = new Int32Array(batchSize * blockSize);
    const y = new Int32Array(batchSize * blockSize);
    for (let b = 0; b < batchSize; b++) {
      const off = rng.nextInt(data.length - blockSize);
      x.set(data.subarray(off, off + blockSize), b * blockSize);
      y.set(data.subarray(off + 1, off + blockSize + 1), b * blockSize);
    }
    return { x: tf.tensor2d(x, [batchSize, blockSize], 'int32'), y: tf.tensor2d(y, [batchSize, blockSize], 'int32') };
  }
}

// 9 distinct characters: ' ', '.', 'd', 'e', 'h', 'l', 'o', 'r', 'w'.
const TEXT = 'hello world. '.repeat(20);
const data = new CharData(TEXT);
const V = data.vocab.length;

const BASE: TrainOptions = {
  batchSize: 4,
  blockSize: 8,
  maxIters: 10,
  lr: 0.05,
  minLr: 0.005,
  warmupIters: 2,
  evalInterval: 100,
  evalIters: 2,
  logInterval: 1,
  seed: 3,
};

async function collect(it: AsyncIterable<TrainRecord>, stopAfterStep = Infinity): Promise<TrainRecord[]> {
  const out: TrainRecord[] = [];
  for await (const r of it) {
    out.push(r);
    if (r.kind === 'step' && r.step >= stopAfterStep) break;
  }
  return out;
}

const losses = (recs: TrainRecord[]): number[] => recs.filter((r): r is StepRecord => r.kind === 'step').map((r) => r.loss);

describe('accumulateGradients', () => {
  it('gives the gradient of one batch of 2 from two micro-batches of 1', () => {
    const model = new Bigram(V);
    const rows = [
      [4, 3, 5, 5, 6, 0],
      [8, 6, 7, 5, 2, 1],
    ];
    const next = [
      [3, 5, 5, 6, 0, 8],
      [6, 7, 5, 2, 1, 0],
    ];
    const base = tf.memory().numTensors;
    const whole = accumulateGradients(
      model.namedWeights(),
      () => model.loss(tf.tensor2d(rows, undefined, 'int32'), tf.tensor2d(next, undefined, 'int32')), // ()
      1,
    );
    const split = accumulateGradients(
      model.namedWeights(),
      (k) => model.loss(tf.tensor2d([rows[k]], undefined, 'int32'), tf.tensor2d([next[k]], undefined, 'int32')), // ()
      2,
    );
    // two gradients and a loss each; the batches and activations were freed by the tape
    expect(tf.memory().numTensors).toBe(base + 6);
    for (const name of ['table', 'bias']) {
      const a = whole.grads.get(name)!.dataSync();
      const b = split.grads.get(name)!.dataSync();
      expect(a.some((x) => x !== 0)).toBe(true);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-6);
    }
    expect(split.loss.dataSync()[0]).toBeCloseTo(whole.loss.dataSync()[0], 5);
    tf.dispose([whole.loss, split.loss, ...whole.grads.values(), ...split.grads.values()]);
    expect(tf.memory().numTensors).toBe(base);
    model.dispose();
  });
});

describe('estimateLoss', () => {
  it('measures ln V for a uniform model on both splits, leaking nothing', async () => {
    const model = new Bigram(V, 'zero');
    const base = tf.memory().numTensors;
    const { train, val } = await estimateLoss(model, data, 3, 2, 8, createRng(1));
    // all logits 0 → p = 1/9 everywhere → loss = ln 9 = 2.1972246
    expect(train).toBeCloseTo(2.1972246, 5);
    expect(val).toBeCloseTo(2.1972246, 5);
    expect(tf.memory().numTensors).toBe(base);
    model.dispose();
  });
});

describe('Trainer', () => {
  it('lowers the loss of a bigram model on a tiny text', async () => {
    const model = new Bigram(V);
    const trainer = new Trainer(model, data, { ...BASE, maxIters: 80, lr: 0.1, minLr: 0.01, evalIters: 4, logInterval: 20 });
    const before = await trainer.evaluate();
    const final = await trainer.train();
    // uniform is ln 9 ≈ 2.20; the best bigram loss on this text is
    // (3·ln 3 after 'l' + 4·ln 2 after 'o' and ' ') / 13 characters ≈ 0.467
    expect(before.val).toBeGreaterThan(1.8);
    expect(final!.step).toBe(80);
    expect(final!.train).toBeLessThan(0.8);
    expect(final!.val).toBeLessThan(0.8);
    trainer.dispose();
    model.dispose();
  });

  it('yields step records with the scheduled lr and eval records at evalInterval and the end', async () => {
    const model = new Bigram(V);
    const trainer = new Trainer(model, data, { ...BASE, maxIters: 3, lr: 0.1, warmupIters: 4, evalInterval: 2 });
    const recs = await collect(trainer.run());
    expect(recs.map((r) => `${r.kind}${r.step}`)).toEqual(['step1', 'step2', 'eval2', 'step3', 'eval3']);
    // warmup: 0.1·(s+1)/5 for s = 0, 1, 2 → 0.02, 0.04, 0.06
    const lrs = recs.filter((r): r is StepRecord => r.kind === 'step').map((r) => r.lr);
    expect(lrs[0]).toBeCloseTo(0.02, 12);
    expect(lrs[1]).toBeCloseTo(0.04, 12);
    expect(lrs[2]).toBeCloseTo(0.06, 12);
    for (const r of recs) {
      if (r.kind === 'step') {
        expect(r.tokensPerSec).toBeGreaterThan(0);
        expect(r.gradNorm).toBeGreaterThan(0);
      }
    }
    expect(trainer.step).toBe(3);
    expect(await collect(trainer.run())).toEqual([]); // already at maxIters
    trainer.dispose();
    model.dispose();
  });

  it('stops after the step in progress when its signal is aborted, even between log points', async () => {
    const model = new Bigram(V);
    // logInterval 100: no record (and so no consumer code) between the steps; only the abort can stop it.
    const trainer = new Trainer(model, data, { ...BASE, maxIters: 1000, logInterval: 100, evalInterval: 1000 });
    const stop = new AbortController();
    let ticks = 0;
    // A timer on the event loop aborts after the 3rd turn the trainer gives it (one per step).
    const tick = (): void => {
      ticks += 1;
      if (ticks === 3) stop.abort();
      else setImmediate(tick);
    };
    setImmediate(tick);
    expect(await collect(trainer.run({ signal: stop.signal }))).toEqual([]);
    expect(trainer.step).toBeGreaterThanOrEqual(2);
    expect(trainer.step).toBeLessThanOrEqual(4);
    const at = trainer.step;
    // state() then describes that step, and run() continues from it.
    expect(trainer.state().step).toBe(at);
    const rest = await collect(trainer.run({ signal: AbortSignal.abort() }));
    expect([rest, trainer.step]).toEqual([[], at]); // already aborted: not one more step
    trainer.dispose();
    model.dispose();
  });

  it('resumes from state() with exactly the losses of an uninterrupted run', async () => {
    const straightModel = new Bigram(V);
    const straight = new Trainer(straightModel, data, BASE);
    const all = await collect(straight.run());
    expect(losses(all)).toHaveLength(10);

    // Interrupted after 5 steps: weights and trainer state go through plain data, as a checkpoint would.
    const first = new Bigram(V);
    const t1 = new Trainer(first, data, BASE);
    const head = await collect(t1.run(), 5);
    const saved = structuredClone(t1.state());
    const weights = new Map([...first.namedWeights()].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    t1.dispose();
    first.dispose();

    const second = new Bigram(V);
    for (const [k, v] of second.namedWeights()) v.assign(tf.tensor(weights.get(k)!, v.shape));
    const t2 = Trainer.restore(second, data, BASE, saved);
    expect(t2.step).toBe(5);
    const tail = await collect(t2.run());
    expect([...losses(head), ...losses(tail)]).toEqual(losses(all));
    expect(tail.at(-1)).toMatchObject({ kind: 'eval', step: 10 });
    const endStraight = all.at(-1)!;
    const endResumed = tail.at(-1)!;
    if (endStraight.kind === 'eval' && endResumed.kind === 'eval') expect(endResumed.val).toBe(endStraight.val);
    straight.dispose();
    straightModel.dispose();
    t2.dispose();
    second.dispose();
  });

  it('keeps numTensors flat across steps, accumulation, clipping, logging and evaluation', async () => {
    const model = new Bigram(V);
    const base = tf.memory().numTensors;
    const trainer = new Trainer(model, data, { ...BASE, maxIters: 8, gradAccumSteps: 2, logInterval: 3, evalInterval: 4 });
    // the optimizer's two moments per weight are its only allocation
    const withState = base + 4;
    expect(tf.memory().numTensors).toBe(withState);
    await collect(trainer.run(), 2);
    expect(tf.memory().numTensors).toBe(withState);
    await collect(trainer.run());
    expect(trainer.step).toBe(8);
    expect(tf.memory().numTensors).toBe(withState);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(base);
    model.dispose();
  });

  it('rejects options that do not fit the model and foreign state, with clear messages', () => {
    const model = new Bigram(V);
    expect(() => new Trainer(model, data, { blockSize: 32 })).toThrow(
      /blockSize \(32\) exceeds the model's blockSize \(16\)/,
    );
    const trainer = new Trainer(model, data, BASE);
    const st = trainer.state();
    const other = new Bigram(V + 1);
    expect(() => Trainer.restore(other, data, BASE, st)).toThrow(/saved m of "table" has 81 values but the parameter has 100/);
    expect(() => trainer.loadState({ ...st, step: -2 })).toThrow(/state.step must be an integer >= 0/);
    trainer.dispose();
    model.dispose();
    other.dispose();
  });
});
