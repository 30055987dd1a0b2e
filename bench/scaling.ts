/**
 * How a training step scales from 1 worker to N on this machine, measured so that the machine's
 * drift cancels: two Trainers over the same model shape, one with 1 worker and one with N, take
 * steps in turn (1, N, 1, N, ...) in one process, and each N-worker step is set against the
 * 1-worker steps just before and after it. On a shared host the speed of a core moves by 20-60%
 * from minute to minute (bench/compare-speed.ts's rows, run one after another, move that much
 * between invocations); steps taken in turn see the same host, so their ratio is what the workers
 * change. The workers of the N-worker Trainer wait (blocked, no CPU) while the 1-worker one steps.
 *
 *   npx tsx bench/scaling.ts [--workers 2] [--steps 30] [--warmup 3] [--shape recipe|wide] [--rows 1,3,6,12]
 *
 * Workloads as bench/train-speed.ts: recipe (vocab 65, 4 layers, 4 heads, 128 embd, block 64,
 * batch 12) and wide (6 layers, 6 heads, 384 embd, block 256, batch 8); dropout 0, clip 1, AdamW.
 * Prints the medians and one JSON line:
 *   {"bench":"scaling","shape":..,"workers":N,"ms_1":..,"ms_n":..,"speedup_median":..,"speedup_of_medians":..,"worker_phase_ms":{..}}
 * speedup_median is the median over steps of (mean of the neighbouring 1-worker steps) / (N-worker step).
 *
 * --rows instead times one thread's forward and backward (no update) at each of the given row
 * counts, taken in turn on one model: how far a step is from linear in its rows, the part of the
 * scaling that does not depend on the workers. Prints the medians and
 *   {"bench":"scaling-rows","shape":..,"rows":{"1":ms,..}}
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setBackend } from '../src/backend.js';
import type { GPT } from '../src/model/gpt.js';
import { Trainer } from '../src/train/trainer.js';
import { createRng, type Rng } from '../src/util/rng.js';
import { benchTrainOptions, SHAPES, type ShapeName, VOCAB, workloadModel } from './workloads.js';

const { values } = parseArgs({
  options: { workers: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' }, shape: { type: 'string' }, rows: { type: 'string' } },
});
const workers = Number(values.workers ?? 2);
const steps = Number(values.steps ?? 30);
const warmup = Number(values.warmup ?? 3);
const shapeArg = values.shape ?? 'recipe';
if (shapeArg !== 'recipe' && shapeArg !== 'wide') throw new Error(`--shape must be recipe or wide, got "${shapeArg}".`);
const shapeName: ShapeName = shapeArg;
const shape = SHAPES[shapeName];
if (!(Number.isInteger(workers) && workers >= 2 && workers <= shape.batch)) throw new Error(`--workers must be an integer in [2, ${shape.batch}], got "${values.workers}".`);
if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(warmup) && warmup >= 0)) throw new Error('--steps must be an integer >= 1 and --warmup an integer >= 0.');

await setBackend('wasm');
const total = warmup + steps;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** One thread's forward + backward at each row count of --rows, in turn; then exits. */
async function timeRows(list: string): Promise<void> {
  const rows = list.split(',').map(Number);
  if (!rows.every((r) => Number.isInteger(r) && r >= 1)) throw new Error(`--rows must be row counts >= 1 separated by commas, got "${list}".`);
  const { block } = shape;
  const model = workloadModel(shapeName);
  const vars = [...model.namedWeights().values()];
  const rng = createRng(1337);
  const step = async (b: number): Promise<number> => {
    const draw = () => Int32Array.from({ length: b * block }, () => rng.nextInt(VOCAB));
    const x = tf.tensor2d(draw(), [b, block], 'int32'); // (b, T)
    const y = tf.tensor2d(draw(), [b, block], 'int32'); // (b, T)
    const t0 = performance.now();
    const loss = tf.tidy(() => tf.variableGrads(() => model.loss(x, y), vars).value); // (); gradients freed
    await loss.data();
    const ms = performance.now() - t0;
    tf.dispose([x, y, loss]);
    return ms;
  };
  const times = new Map<number, number[]>(rows.map((r) => [r, []]));
  for (let i = 0; i < total; i++) {
    for (const r of rows) {
      const ms = await step(r);
      if (i >= warmup) times.get(r)?.push(ms);
    }
  }
  model.dispose();
  const med = Object.fromEntries(rows.map((r) => [String(r), +median(times.get(r) ?? []).toFixed(2)]));
  console.log(`${shapeName}, one thread, rows taken in turn (median ms of ${steps} steps each): ${JSON.stringify(med)}`);
  console.log(JSON.stringify({ bench: 'scaling-rows', shape: shapeName, steps, rows: med }));
}
if (values.rows !== undefined) {
  await timeRows(values.rows);
  process.exit(0);
}

/** A Trainer of `n` workers for `iters` steps on a fresh model, with seeded uniform tokens. */
function trainerOf(n: number, iters: number): { trainer: Trainer; model: GPT } {
  const { block, batch } = shape;
  const model = workloadModel(shapeName);
  const rng = createRng(1337);
  const source = {
    getBatch(_split: 'train' | 'val', b: number, t: number, _r: Rng) {
      const draw = () => Int32Array.from({ length: b * t }, () => rng.nextInt(VOCAB));
      return { x: tf.tensor2d(draw(), [b, t], 'int32'), y: tf.tensor2d(draw(), [b, t], 'int32') }; // (B, T) each
    },
  };
  const trainer = new Trainer(model, source, benchTrainOptions(batch, block, 1, n, iters));
  return { trainer, model };
}

/** The next step's time from a running Trainer (eval records skipped). */
async function nextStepMs(run: AsyncGenerator<{ kind: string; ms: number }>): Promise<number> {
  for (;;) {
    const r = await run.next();
    if (r.done) throw new Error('scaling: a trainer stopped before its last step.');
    if (r.value.kind === 'step') return r.value.ms;
  }
}

// The 1-worker Trainer takes one step more, after the last N-worker step, to stand beside it.
const one = trainerOf(1, total + 1);
const many = trainerOf(workers, total);
const runOne = one.trainer.run() as AsyncGenerator<{ kind: string; ms: number }>;
const runMany = many.trainer.run() as AsyncGenerator<{ kind: string; ms: number }>;
const msOne: number[] = [];
const msMany: number[] = [];
const phaseSums = new Map<string, number>();
for (let i = 0; i < total; i++) {
  const a = await nextStepMs(runOne);
  const b = await nextStepMs(runMany);
  if (i >= warmup) {
    msOne.push(a);
    msMany.push(b);
    // Each phase's mean over the workers (their own clocks), summed over the timed steps.
    const ph = many.trainer.workerPhases;
    for (const p of ph) for (const [k, ms] of Object.entries(p)) phaseSums.set(k, (phaseSums.get(k) ?? 0) + ms / ph.length);
  }
}
const after = await nextStepMs(runOne);
for (const r of [runOne, runMany]) await r.return(undefined);
one.trainer.dispose();
many.trainer.dispose();
one.model.dispose();
many.model.dispose();

const neighbours = msOne.map((a, i) => (a + (i + 1 < msOne.length ? msOne[i + 1] : after)) / 2);
const speedups = msMany.map((b, i) => neighbours[i] / b);
const [m1, mn] = [median(msOne), median(msMany)];
console.log(`${shapeName}: 1 worker ${m1.toFixed(1)} ms, ${workers} workers ${mn.toFixed(1)} ms (medians of ${steps} steps taken in turn)`);
const phases = Object.fromEntries([...phaseSums].map(([k, ms]) => [k, +(ms / steps).toFixed(1)]));
console.log(`${workers}-worker step by phase (ms, mean over workers and steps): ${JSON.stringify(phases)}`);
console.log(`speedup: median of per-step ratios ${median(speedups).toFixed(3)}x, ratio of medians ${(m1 / mn).toFixed(3)}x`);
console.log(
  JSON.stringify({
    bench: 'scaling',
    shape: shapeName,
    workers,
    steps,
    ms_1: +m1.toFixed(2),
    ms_n: +mn.toFixed(2),
    speedup_median: +median(speedups).toFixed(3),
    speedup_of_medians: +(m1 / mn).toFixed(3),
    worker_phase_ms: phases,
  }),
);
