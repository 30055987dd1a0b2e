/**
 * Post-training step time beside a pre-training step of the same model (issue 15, item 7).
 * Model: the Shakespeare-char shape (vocab 65, block 64, 4 layers, 4 heads, 128 embd, dropout 0);
 * every row processes 12 sequences of 64 positions (768 tokens) per optimizer step:
 *   pretrain  Trainer step: forward, cross-entropy on all positions, backward, clip, AdamW
 *   sft       SFTTrainer step: the same, with the loss masked to the last 32 positions of each row
 *   dpo       DPOTrainer step, 6 pairs = 12 sequences: policy forward/backward over chosen and
 *             rejected; the reference log-probs are cached, so no reference pass per step
 *   dpo-ref   one forward of the same 12 sequences, no gradient: what a step would add per
 *             reference pass if π_ref were re-run each step instead of cached (TRL without precompute)
 * Data are seeded random tokens; ms_per_step is the median of the timed steps (each syncs once).
 *
 *   npx tsx bench/post-train-speed.ts [--backend wasm|cpu] [--steps 10] [--warmup 2]
 *
 * Prints one JSON line per row: {"row", "backend", "ms_per_step", "tokens_per_step", "num_tensors_before", "num_tensors_after"}.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setBackend } from '../src/backend.js';
import { TextDataset } from '../src/data/dataset.js';
import { GPT } from '../src/model/gpt.js';
import { DPOTrainer, exampleLogProbs } from '../src/train/dpo.js';
import type { PreferencePair } from '../src/train/dpoData.js';
import { SFTTrainer } from '../src/train/sft.js';
import type { TokenizedExample } from '../src/train/sftData.js';
import { Trainer } from '../src/train/trainer.js';
import { createRng } from '../src/util/rng.js';

const VOCAB = 65;
const BLOCK = 64;
const ROWS = 12;

const { values } = parseArgs({ options: { backend: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' } } });
const backend = values.backend ?? 'wasm';
if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got "${backend}".`);
const steps = Number(values.steps ?? 10);
const warmup = Number(values.warmup ?? 2);
if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(warmup) || warmup < 0) throw new Error('--steps must be an integer >= 1 and --warmup >= 0.');

const rng = createRng(1234);
const randomIds = (n: number): number[] => Array.from({ length: n }, () => rng.nextInt(VOCAB));
/** A 65-token example whose last 32 targets are counted. */
const example = (): TokenizedExample => ({ ids: randomIds(BLOCK + 1), tokenMask: Array.from({ length: BLOCK + 1 }, (_, i) => (i > BLOCK - 32 ? 1 : 0)) });

function model(): GPT {
  return new GPT({ vocabSize: VOCAB, blockSize: BLOCK, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, seed: 1337 });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median of the `ms` of step records after the warm-up ones (logInterval 1: one record per step). */
async function timeRun(run: AsyncGenerator<{ kind: string; ms?: number }>): Promise<number> {
  const ms: number[] = [];
  let seen = 0;
  for await (const r of run) {
    if (r.kind !== 'step') continue;
    if (seen++ >= warmup) ms.push(r.ms ?? NaN);
  }
  return median(ms);
}

function report(row: string, msPerStep: number, before: number): void {
  const line = { row, backend, ms_per_step: Number(msPerStep.toFixed(2)), tokens_per_step: ROWS * BLOCK, num_tensors_before: before, num_tensors_after: tf.memory().numTensors };
  console.log(JSON.stringify(line));
}

async function main(): Promise<void> {
  await setBackend(backend as 'wasm' | 'cpu');
  const total = warmup + steps;
  const common = { maxIters: total, batchSize: ROWS, lr: 1e-4, logInterval: 1, evalInterval: 1_000_000 };

  {
    const m = model();
    const before = tf.memory().numTensors;
    // One worker, as SFT and DPO run: the rows compare one thread's step with one thread's step.
    const t = new Trainer(m, new TextDataset(Int32Array.from(randomIds(20_000))), { ...common, blockSize: BLOCK, evalIters: 1, workers: 1 });
    const runs = t.run();
    // The trainer evaluates after its last step; only the step records are timed.
    const ms = await timeRun(runs);
    t.dispose(); // frees the AdamW moments before the tensor count is read
    report('pretrain', ms, before);
    m.dispose();
  }
  {
    const m = model();
    const before = tf.memory().numTensors;
    const data = Array.from({ length: 4 * ROWS }, example);
    const t = new SFTTrainer(m, data, common, { evalExamples: data.slice(0, 1) });
    const ms = await timeRun(t.run());
    t.dispose();
    report('sft', ms, before);
    m.dispose();
  }
  {
    const m = model();
    const before = tf.memory().numTensors;
    const pairs: PreferencePair[] = Array.from({ length: 2 * ROWS }, () => ({ chosen: example(), rejected: example() }));
    const t = new DPOTrainer(m, pairs, { ...common, batchSize: ROWS / 2, beta: 0.1 }, { evalPairs: pairs.slice(0, 1) });
    const msDpo = await timeRun(t.run());
    t.dispose();
    report('dpo', msDpo, before);
    const seqs = pairs.slice(0, ROWS / 2).flatMap((p) => [p.chosen, p.rejected]);
    const ms: number[] = [];
    for (let i = 0; i < total; i++) {
      const t0 = performance.now();
      await exampleLogProbs(m, seqs, ROWS);
      if (i >= warmup) ms.push(performance.now() - t0);
    }
    report('dpo-ref', median(ms), before);
    m.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(`post-train-speed: ${(e as Error).message}`);
  process.exit(1);
});
