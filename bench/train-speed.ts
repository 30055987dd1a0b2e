/**
 * Training-step speed of tinygpt on the nanoGPT Shakespeare-char CPU recipe, the same step that
 * bench/reference/nanogpt_step.py times in PyTorch and bench/gpt-tfjs-speed.ts in gpt-tfjs:
 * vocab 65, block 64, 4 layers, 4 heads, 128 embd, batch 12 (768 tokens per step), dropout 0;
 * forward, cross-entropy, gradients of every weight, global-norm clip at 1.0, AdamW (lr 1e-3,
 * betas 0.9/0.99, weight decay 0.1 on >= 2-D weights). Batches are uniform random tokens drawn
 * up front from a seeded Rng, so only the step is timed.
 *
 *   npx tsx bench/train-speed.ts [--backend wasm|cpu|all] [--steps 20] [--warmup 3] [--threads 1|2] [--plain]
 *                                [--workers N|auto] [--micro K] [--shape recipe|wide]
 *
 * --workers times the step through Trainer (src/train/trainer.ts) with data-parallel workers
 * (TrainOptions.workers): one micro-batch of the whole batch by default, whose rows the workers
 * share (2 cores: 6 + 6), or K micro-batches of batch/K sequences with --micro K; the same tokens
 * per step either way. Without --workers the step is the hand loop below.
 * --shape wide is the second workload of issue 16: 6 layers, 6 heads, 384 embd, block 256, batch 8.
 *
 * Prints one JSON line per backend:
 *   {"impl":"tinygpt","backend":"wasm","threads":1,"ms_per_iter":..,"tokens_per_sec":..,
 *    "cpu_ms_per_iter":..,"peak_rss_mib":..,"num_tensors_before":..,"num_tensors_after":..}
 * ms_per_iter is the median of the timed steps; each step syncs once (await loss.data()).
 * cpu_ms_per_iter is the median process CPU time of a step (user + system): with one thread it
 * matches ms_per_iter on an idle machine and stays put when other processes compete for the cores.
 * --plain times tfjs's own autograd of the plain reference forward (test/reference/gpt.ts) instead of the library's hand-written gradients.
 * --threads 2 asks the wasm backend for two threads; it needs the threaded wasm build, which
 * tinygpt does not load in Node, so it fails with an explanation rather than timing one thread.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { setBackend } from '../src/backend.js';
import type { GPT } from '../src/model/gpt.js';
import { referenceLoss } from '../test/reference/gpt.js';
import { AdamW } from '../src/train/adamw.js';
import { globalNormScale } from '../src/train/clip.js';
import { resolveWorkers } from '../src/train/parallel/start.js';
import { Trainer } from '../src/train/trainer.js';
import { createRng, type Rng } from '../src/util/rng.js';
import { benchTrainOptions, SHAPES, type ShapeName, VOCAB, workloadModel } from './workloads.js';

type BenchBackend = 'wasm' | 'cpu';

/** Command-line options. */
interface Options {
  /** Backends to time, one JSON line each. */
  readonly backends: readonly BenchBackend[];
  /** Timed steps; the median is reported. */
  readonly steps: number;
  /** Untimed steps first (kernel set-up, allocator growth). */
  readonly warmup: number;
  /** Threads the wasm backend should use. */
  readonly threads: 1 | 2;
  /** Time tfjs's autograd path instead of the hand-written gradients. */
  readonly plain: boolean;
  /** Data-parallel workers through Trainer, or null for the hand-written step loop. */
  readonly workers: number | 'auto' | null;
  /** Micro-batches the batch is split into (workers mode), or null for the default. */
  readonly micro: number | null;
  /** Workload. */
  readonly shape: ShapeName;
}

const USAGE = 'use --backend wasm|cpu|all, --steps N (>= 1), --warmup N, --threads 1|2, --plain, --workers N|auto, --micro K, --shape recipe|wide.';

function parseArgs(argv: readonly string[]): Options {
  let backends: BenchBackend[] = ['wasm'];
  let steps = 20;
  let warmup = 3;
  let threads: 1 | 2 = 1;
  let plain = false;
  let workers: number | 'auto' | null = null;
  let micro: number | null = null;
  let shape: ShapeName = 'recipe';
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--plain') {
      plain = true;
      continue;
    }
    const value = argv[i + 1];
    if (flag === '--backend' && (value === 'wasm' || value === 'cpu' || value === 'all')) {
      backends = value === 'all' ? ['wasm', 'cpu'] : [value];
    } else if ((flag === '--steps' || flag === '--warmup') && value !== undefined && /^\d+$/.test(value)) {
      if (flag === '--steps') steps = Number(value);
      else warmup = Number(value);
    } else if (flag === '--workers' && value !== undefined && (value === 'auto' || /^[1-9]\d*$/.test(value))) {
      workers = value === 'auto' ? 'auto' : Number(value);
    } else if (flag === '--micro' && value !== undefined && /^[1-9]\d*$/.test(value)) {
      micro = Number(value);
    } else if (flag === '--shape' && (value === 'recipe' || value === 'wide')) {
      shape = value;
    } else if (flag === '--threads' && (value === '1' || value === '2')) {
      threads = value === '1' ? 1 : 2;
    } else {
      throw new Error(`Unrecognised argument "${flag}${value === undefined ? '' : ' ' + value}": ${USAGE}`);
    }
    i++;
  }
  if (steps < 1) throw new Error(`--steps must be at least 1: ${USAGE}`);
  return { backends, steps, warmup, threads, plain, workers, micro, shape };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Times the recipe's training step on one backend and returns the JSON record. */
async function benchBackend(backend: BenchBackend, opts: Options): Promise<Record<string, unknown>> {
  await setBackend(backend);
  const threads = backend === 'wasm' ? getThreadsCount() : 1;
  if (backend === 'wasm' && threads !== opts.threads) {
    throw new Error(
      `--threads ${opts.threads}: the wasm backend runs ${threads} thread(s); tinygpt loads the ` +
        'single-threaded wasm build in Node, so run with --threads 1.',
    );
  }
  const { block: BLOCK, batch: BATCH } = SHAPES[opts.shape];
  const TOKENS = BATCH * BLOCK;
  const model = workloadModel(opts.shape);
  if (opts.workers !== null) {
    if (opts.plain) throw new Error(`--plain times the hand loop only; drop --workers or --plain: ${USAGE}`);
    return benchWorkers(backend, model, opts, opts.workers);
  }
  const named = model.namedWeights();
  const names = [...named.keys()];
  const vars = [...named.values()];
  const opt = new AdamW(named, { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });

  const rng = createRng(1337);
  const total = opts.warmup + opts.steps;
  const draw = () => Int32Array.from({ length: TOKENS }, () => rng.nextInt(VOCAB));
  const batches = Array.from({ length: total }, () => ({ ids: draw(), targets: draw() }));

  const numTensorsBefore = tf.memory().numTensors;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let lastLoss = NaN;
  for (let step = 0; step < total; step++) {
    const { ids, targets } = batches[step];
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const x = tf.tensor2d(ids, [BATCH, BLOCK], 'int32'); // (B, T)
    const y = tf.tensor2d(targets, [BATCH, BLOCK], 'int32'); // (B, T)
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => (opts.plain ? referenceLoss(model, x, y) : model.loss(x, y)), vars);
      const byName = new Map(names.map((n, i) => [n, grads[vars[i].name]] as const));
      // As train/update.ts's applyUpdate: the clip factor folded into the AdamW update.
      opt.step(byName, undefined, globalNormScale(byName, 1).scale);
      return value; // ()
    });
    lastLoss = (await loss.data())[0];
    const dt = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    tf.dispose([x, y, loss]);
    if (step >= opts.warmup) {
      times.push(dt);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
    process.stderr.write(
      `# ${backend} step ${step + 1}/${total}: ${dt.toFixed(1)} ms, loss ${lastLoss.toFixed(4)}, tensors ${tf.memory().numTensors}\n`,
    );
  }
  const numTensorsAfter = tf.memory().numTensors;
  const ms = median(times);
  process.stderr.write(
    `# tinygpt on ${backend}${opts.plain ? ' (plain autograd)' : ''}, ${model.numParams()} params, ` +
      `${opts.steps} timed steps, min ${Math.min(...times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms\n`,
  );
  opt.dispose();
  model.dispose();
  return {
    impl: opts.plain ? 'tinygpt-plain' : 'tinygpt',
    backend,
    shape: opts.shape,
    threads,
    ms_per_iter: Math.round(ms * 100) / 100,
    tokens_per_sec: Math.round((TOKENS / (ms / 1000)) * 10) / 10,
    // Process CPU time per step (median): on a shared machine it moves far less than wall time.
    cpu_ms_per_iter: Math.round(median(cpuTimes) * 100) / 100,
    // maxRSS is reported in KiB; it is the process's high-water mark so far.
    peak_rss_mib: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    num_tensors_before: numTensorsBefore,
    num_tensors_after: numTensorsAfter,
  };
}

/** Times Trainer steps with data-parallel workers: the batch as one micro-batch (rows shared out) or K. */
async function benchWorkers(backend: BenchBackend, model: GPT, opts: Options, requested: number | 'auto'): Promise<Record<string, unknown>> {
  const { block, batch } = SHAPES[opts.shape];
  const micro = opts.micro ?? 1;
  if (batch % micro !== 0) throw new Error(`--micro ${micro} does not divide the batch of ${batch}: ${USAGE}`);
  const microBatch = batch / micro;
  const rng = createRng(1337);
  const total = opts.warmup + opts.steps;
  // Tokens drawn up front (as in the hand loop); the source hands them out in order.
  const pool = Array.from({ length: total * micro * 2 }, () => Int32Array.from({ length: microBatch * block }, () => rng.nextInt(VOCAB)));
  let next = 0;
  const source = {
    getBatch(_split: 'train' | 'val', b: number, t: number, _rng: Rng) {
      const ids = pool[next++ % pool.length];
      const targets = pool[next++ % pool.length];
      return { x: tf.tensor2d(ids, [b, t], 'int32'), y: tf.tensor2d(targets, [b, t], 'int32') }; // (B, T) each
    },
  };
  const trainer = new Trainer(model, source, benchTrainOptions(microBatch, block, micro, requested, total));
  const workers = await resolveWorkers(requested, batch, backend);
  const times: number[] = [];
  const numTensorsBefore = tf.memory().numTensors;
  const phaseSums = new Map<string, number>();
  for await (const r of trainer.run()) {
    if (r.kind !== 'step') continue;
    if (r.step > opts.warmup) {
      times.push(r.ms);
      // Mean over workers of each phase (the workers' own clocks), summed over the timed steps.
      for (const p of trainer.workerPhases) for (const [k, ms] of Object.entries(p)) phaseSums.set(k, (phaseSums.get(k) ?? 0) + ms / trainer.workerPhases.length);
    }
    process.stderr.write(`# ${backend} ${workers} worker(s) step ${r.step}/${total}: ${r.ms.toFixed(1)} ms, loss ${r.loss.toFixed(4)}\n`);
  }
  const numTensorsAfter = tf.memory().numTensors;
  trainer.dispose();
  model.dispose();
  const ms = median(times);
  return {
    impl: 'tinygpt',
    backend,
    shape: opts.shape,
    workers,
    micro_batches: `${micro} x ${microBatch}`,
    ms_per_iter: Math.round(ms * 100) / 100,
    tokens_per_sec: Math.round(((batch * block) / (ms / 1000)) * 10) / 10,
    // The worker threads live in this process, so this high-water mark includes them.
    peak_rss_mib: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    // Per-step worker phases in ms (load weights, forward+backward, waiting, reduce, AdamW).
    worker_phase_ms: Object.fromEntries([...phaseSums].map(([k, ms]) => [k, Math.round((ms / times.length) * 10) / 10])),
    num_tensors_before: numTensorsBefore,
    num_tensors_after: numTensorsAfter,
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  for (const backend of opts.backends) console.log(JSON.stringify(await benchBackend(backend, opts)));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
