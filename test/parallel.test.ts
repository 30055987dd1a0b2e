import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GPT } from '../src/model/gpt.js';
import { TextDataset } from '../src/data/dataset.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { accumulateGradients } from '../src/train/accumulate.js';
import { resolveTrainOptions, type TrainOptions } from '../src/train/options.js';
import { liveWorkerThreads, setWorkerEntry, spawnNodeReplica } from '../src/train/parallel/nodeThread.js';
import { DataParallel } from '../src/train/parallel/pool.js';
import { resolveWorkers } from '../src/train/parallel/start.js';
import { shardSeed, shareOf, stepUnits } from '../src/train/parallel/units.js';
import { AdamW } from '../src/train/adamw.js';
import { applyUpdate, readStep } from '../src/train/update.js';
import { trainOnText } from '../src/train/session.js';
import { Trainer } from '../src/train/trainer.js';
import { createRng } from '../src/util/rng.js';
import type { LanguageModel } from '../src/model/types.js';
import { cliHarness } from './cliHarness.js';
import { maxDiff } from './helpers.js';

// A text of my own, long enough for 8-token windows in both splits.
const TEXT = 'a small grey cat sat on a warm mat and saw a big red dog run past the door. '.repeat(30);
const tok = CharTokenizer.fromText(TEXT);
const dataset = new TextDataset(Int32Array.from(tok.encode(TEXT)));
const SHAPE = { blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0.1, seed: 11 } as const;
const tinyModel = () => new GPT({ ...SHAPE, vocabSize: tok.vocabSize });
// 4 micro-batches of 2 sequences per step, so 2 workers take 2 each.
const RUN: TrainOptions = { batchSize: 2, blockSize: 8, gradAccumSteps: 4, warmupIters: 5, evalIters: 1, logInterval: 1 };

async function losses(workers: number, maxIters: number, run: TrainOptions = RUN, dropout: number = SHAPE.dropout): Promise<number[]> {
  const before = tf.memory().numTensors;
  const model = new GPT({ ...SHAPE, dropout, vocabSize: tok.vocabSize });
  const trainer = new Trainer(model, dataset, { ...run, maxIters, evalInterval: maxIters, workers });
  const out: number[] = [];
  try {
    for await (const r of trainer.run()) if (r.kind === 'step') out.push(r.loss);
  } finally {
    trainer.dispose();
    model.dispose();
  }
  expect(tf.memory().numTensors).toBe(before); // the main thread's side of every step is freed
  return out;
}

afterEach(() => setWorkerEntry(null));

/** A GPT under other weight names: a model that new GPT(config) does not reproduce. */
function renamed(model: GPT): LanguageModel {
  const names = new Map([...model.namedWeights()].map(([n, v]) => [`m.${n}`, v] as const));
  return {
    config: model.config,
    forward: (ids, o) => model.forward(ids, o),
    loss: (ids, t, o) => model.loss(ids, t, o),
    namedWeights: () => names,
    numParams: () => model.numParams(),
    dispose: () => model.dispose(),
  };
}

describe('workers option', () => {
  it('accepts auto or a whole number up to the rows per step, with a fix in the error', () => {
    expect(resolveTrainOptions({}).workers).toBe('auto');
    expect(resolveTrainOptions({ workers: 2, gradAccumSteps: 2 }).workers).toBe(2);
    expect(resolveTrainOptions({ workers: 2, batchSize: 12 }).workers).toBe(2);
    expect(() => resolveTrainOptions({ workers: 0 })).toThrow(/workers must be an integer >= 1 or 'auto'/);
    expect(() => resolveTrainOptions({ workers: 5, batchSize: 2, gradAccumSteps: 2 })).toThrow(/exceeds the rows per step.*workers <= 4/);
  });

  it("'auto' is one per core capped by the rows per step, and 1 on tfjs-node", async () => {
    expect(await resolveWorkers('auto', 1, 'wasm')).toBe(1);
    expect(await resolveWorkers('auto', 64, 'tensorflow')).toBe(1);
    const { availableParallelism } = await import('node:os');
    expect(await resolveWorkers('auto', 1000, 'cpu')).toBe(availableParallelism());
    expect(await resolveWorkers(3, 2, 'cpu')).toBe(2);
  });

  it('splits K micro-batches into contiguous ranges covering each once', () => {
    // 5 over 2: floor(0·5/2)=0, floor(5/2)=2, floor(10/2)=5 → [0,2) and [2,5).
    expect([0, 1].map((w) => shareOf(w, 2, 5))).toEqual([[0, 2], [2, 5]]);
    // 4 micro-batches of 2 rows on 2 workers: whole micro-batches, 2 each.
    expect(stepUnits(2, 4, 2).map((us) => us.map((u) => [u.micro, u.rowStart, u.rowEnd]))).toEqual([
      [[0, 0, 2], [1, 0, 2]],
      [[2, 0, 2], [3, 0, 2]],
    ]);
    // One micro-batch of 12 rows on 2 workers: S = ⌈2/1⌉ = 2 shards, rows [0,6) and [6,12).
    expect(stepUnits(2, 1, 12).map((us) => us.map((u) => [u.micro, u.rowStart, u.rowEnd, u.shard]))).toEqual([
      [[0, 0, 6, 0]],
      [[0, 6, 12, 1]],
    ]);
    // 2 micro-batches of 5 rows on 3 workers: S = ⌈3/2⌉ = 2 shards of [0,2) and [2,5), 4 units over 3
    // workers as [0,1), [1,2), [2,4).
    expect(stepUnits(3, 2, 5).map((us) => us.map((u) => [u.micro, u.rowStart, u.rowEnd]))).toEqual([
      [[0, 0, 2]],
      [[0, 2, 5]],
      [[1, 0, 2], [1, 2, 5]],
    ]);
    expect(() => stepUnits(5, 2, 2)).toThrow(/workers must be an integer in \[1, 4\]/);
  });

  it("keeps an uncut micro-batch's dropout seed and gives its shards other seeds", () => {
    expect(shardSeed(12345, 0)).toBe(12345);
    const seeds = [1, 2, 3].map((j) => shardSeed(12345, j));
    expect(new Set([12345, ...seeds]).size).toBe(4);
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s <= 0x7fffffff).toBe(true);
    expect(shardSeed(12345, 2)).toBe(seeds[1]); // a pure function of (seed, shard)
  });
});

describe('data-parallel training (2 worker threads)', () => {
  it('gives the losses of 1 worker with accumulation over the same micro-batches, 50 steps, dropout on', async () => {
    const one = await losses(1, 50);
    const two = await losses(2, 50);
    expect(two).toHaveLength(50);
    expect(maxDiff(two, one)).toBeLessThan(1e-5);
    // It learns: from about ln(vocab) at the start, the last 5 losses average clearly lower.
    expect(one[0]).toBeGreaterThan(Math.log(tok.vocabSize) - 0.3);
    expect(two.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(one[0] - 0.15);
    expect(liveWorkerThreads()).toBe(0);
  }, 120_000);

  it('splits one micro-batch by rows: 2 workers give 1 worker\'s losses over 50 steps (dropout off)', async () => {
    const rows: TrainOptions = { ...RUN, batchSize: 4, gradAccumSteps: 1 };
    const one = await losses(1, 50, rows, 0);
    const two = await losses(2, 50, rows, 0);
    expect(two).toHaveLength(50);
    expect(maxDiff(two, one)).toBeLessThan(1e-5);
    expect(two.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(one[0] - 0.15);
    expect(liveWorkerThreads()).toBe(0);
  }, 120_000);

  it('applies clip + AdamW in the workers as the main thread would; numTensors stays flat in every worker', async () => {
    const par = tinyModel();
    const seq = tinyModel(); // the same seed: the same initial weights
    const optPar = new AdamW(par.namedWeights(), { lr: 1e-2, weightDecay: 0.1 });
    const optSeq = new AdamW(seq.namedWeights(), { lr: 1e-2, weightDecay: 0.1 });
    const pool = await DataParallel.start(par, optPar, { workers: 2, micro: 4, batchSize: 2, blockSize: 8, gradClip: 0.5, spawn: spawnNodeReplica });
    try {
      const atReady = [...pool.tensorCounts];
      expect(atReady.every((n) => n > 0)).toBe(true);
      for (let step = 0; step < 3; step++) {
        const before = tf.memory().numTensors;
        const rngA = createRng(`g${step}`);
        const rngB = createRng(`g${step}`);
        const lr = 1e-2 * (step + 1);
        const got = await pool.step(lr, () => ({ ...dataset.getBatch('train', 2, 8, rngA), seed: rngA.nextSeed() }));
        const summed = accumulateGradients(seq.namedWeights(), () => {
          const { x, y } = dataset.getBatch('train', 2, 8, rngB); // (B, T) each
          return seq.loss(x, y, { training: true, seed: rngB.nextSeed() }); // ()
        }, 4);
        const [loss, norm] = await readStep(applyUpdate(optSeq, summed, 0.5, lr));
        expect(Math.abs(got.loss - loss)).toBeLessThan(1e-6);
        expect(norm).toBeGreaterThan(0.5); // the clip is active
        expect(Math.abs(got.norm - (norm as number)) / (norm as number)).toBeLessThan(1e-5);
        expect(tf.memory().numTensors).toBe(before);
        expect(pool.tensorCounts).toEqual(atReady);
      }
      pool.syncTo(par.namedWeights(), optPar);
      // Adam divides by √v, so a gradient that cancels to near 0 across rows turns its sum's
      // rounding (~1e-10 here) into up to lr·(relative error) of update: 1e-4 is ~1/300 of lr.
      for (const [name, w] of seq.namedWeights()) expect(maxDiff(par.namedWeights().get(name)!.dataSync(), w.dataSync())).toBeLessThan(1e-4);
      const [a, b] = [optPar.getState(), optSeq.getState()];
      expect(a.step).toBe(3);
      expect(b.step).toBe(3);
      for (const [name, m] of b.m) expect(maxDiff(a.m.get(name)!, m)).toBeLessThan(1e-6);
    } finally {
      await pool.dispose();
      optPar.dispose();
      optSeq.dispose();
      par.dispose();
      seq.dispose();
    }
    expect(liveWorkerThreads()).toBe(0);
  }, 120_000);

  it('resumes a 2-worker checkpoint with 1 worker on the losses of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinygpt-dp-'));
    try {
      const base = { text: TEXT, outDir: dir, makeTokenizer: (t: string) => CharTokenizer.fromText(t), model: SHAPE, progress: false as const };
      const train = { ...RUN, lrDecayIters: 12, evalInterval: 6 };
      const seen: number[] = [];
      const onRecord = (r: { kind: string; loss?: number }) => r.kind === 'step' && seen.push(r.loss as number);
      const a = await trainOnText({ ...base, train: { ...train, maxIters: 6, workers: 2 }, onRecord });
      a.model.dispose();
      const b = await trainOnText({ ...base, train: { maxIters: 12, workers: 1 }, resume: true, onRecord });
      b.model.dispose();
      const straight = await losses(1, 12);
      expect(seen).toHaveLength(12);
      // losses() uses its own lrDecayIters (= maxIters = 12), the same as this run's.
      expect(maxDiff(seen, straight)).toBeLessThan(1e-5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('models a replica cannot rebuild', () => {
  it("stay on the main thread with 'auto', and name the first differing weight with workers: 2", async () => {
    const model = renamed(tinyModel());
    try {
      const auto = new Trainer(model, dataset, { ...RUN, maxIters: 1, evalInterval: 1 });
      for await (const r of auto.run()) if (r.kind === 'step') expect(Number.isFinite(r.loss)).toBe(true);
      auto.dispose();
      const two = new Trainer(model, dataset, { ...RUN, maxIters: 1, evalInterval: 1, workers: 2 });
      await expect(two.train()).rejects.toThrow(/has "wte\.weight" \[\d+, 16\] where the model has "m\.wte\.weight"/);
      two.dispose();
      expect(liveWorkerThreads()).toBe(0);
    } finally {
      model.dispose();
    }
  }, 60_000);
});

describe('tinygpt train --workers', () => {
  const cli = cliHarness();
  it('trains with --workers 2, splitting the batch by rows, and rejects bad values with the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinygpt-dp-cli-'));
    try {
      const corpus = join(dir, 'corpus.txt');
      writeFileSync(corpus, TEXT);
      const base = ['train', '--data', corpus, '--block-size', '8', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--eval-iters', '1'];
      const bad = await cli.run(...base, '--out', join(dir, 'a'), '--workers', 'two');
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/--workers must be a whole number >= 1 or "auto", got "two"/);
      const tooMany = await cli.run(...base, '--out', join(dir, 'b'), '--workers', '5', '--batch-size', '4');
      expect(tooMany.code).toBe(1);
      expect(tooMany.err).toMatch(/workers \(5\) exceeds the rows per step \(batchSize 4 × gradAccumSteps 1\).*workers <= 4/);
      const ok = await cli.run(...base, '--out', join(dir, 'c'), '--workers', '2', '--batch-size', '2',
        '--max-iters', '2', '--eval-interval', '2');
      expect(ok.code).toBe(0);
      const saved = JSON.parse(readFileSync(join(dir, 'c', 'ckpt', 'trainer.json'), 'utf8'));
      expect(saved.options).toMatchObject({ workers: 2, gradAccumSteps: 1, batchSize: 2 });
      expect(saved.state.step).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('worker faults', () => {
  for (const mode of ['throw', 'exit'] as const) {
    it(`a worker that ${mode === 'throw' ? 'throws' : 'dies'} ends the run naming it; the checkpoint stays; no thread is left`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tinygpt-dp-fault-'));
      Object.assign(process.env, { TINYGPT_FAULT_MODE: mode, TINYGPT_FAULT_WORKER: '1', TINYGPT_FAULT_STEP: '3' });
      setWorkerEntry(new URL('./fixtures/faultyWorker.ts', import.meta.url));
      try {
        const base = { text: TEXT, outDir: dir, makeTokenizer: (t: string) => CharTokenizer.fromText(t), model: SHAPE, progress: false as const };
        const cause = mode === 'throw' ? /it threw injected fault in the replica/ : /its thread exited with code 7/;
        const err = await trainOnText({ ...base, train: { ...RUN, maxIters: 6, evalInterval: 2, workers: 2 } }).then(
          () => new Error('the run finished'),
          (e: unknown) => e as Error,
        );
        expect(err.message).toMatch(/^workers: worker 2 of 2 failed: /);
        expect(err.message).toMatch(cause);
        expect(liveWorkerThreads()).toBe(0);
        // Step index 3 is the 4th step: the checkpoint of step 2 is the last one, whole and loadable.
        const ck = await loadCheckpoint(join(dir, 'ckpt'));
        expect((ck.trainer as { state: { step: number } }).state.step).toBe(2);
      } finally {
        for (const k of ['TINYGPT_FAULT_MODE', 'TINYGPT_FAULT_WORKER', 'TINYGPT_FAULT_STEP']) delete process.env[k];
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }
});
