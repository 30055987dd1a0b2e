/**
 * Training-step speed of the npm package gpt-tfjs (v0.0.5, built on tfjs-layers), as the
 * baseline tinygpt is compared against. Same model and step as bench/reference/nanogpt_step.py:
 * vocab 65, block 64, 4 layers, 4 heads, 128 embd, batch 12, dropout 0; AdamW (lr 1e-3,
 * betas 0.9/0.99, weight decay 0.1 on >= 2-D weights), global-norm clip 1.0. The step body is
 * the one gpt-tfjs's own train() runs, minus its tf.data pipeline (batches are made up front).
 *
 *   npx tsx bench/gpt-tfjs-speed.ts [--backend wasm|cpu] [--steps N] [--warmup N]
 *
 * Prints one JSON line:
 *   {"impl":"gpt-tfjs","threads":N,"ms_per_iter":..,"tokens_per_sec":..,"peak_rss_mib":..,"backend":".."}
 * ms_per_iter is the median of the timed steps.
 *
 * wasm note: tfjs-backend-wasm 4.22 has no UnsortedSegmentSum kernel, which the gradient of
 * Gather (so of every embedding lookup) needs, so gpt-tfjs cannot train on wasm as shipped.
 * This script registers a plain-JS wasm kernel for it (a few microseconds per step at this
 * size); everything else runs on the stock wasm kernels.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { createRng } from '../src/util/rng.js';

const VOCAB = 65;
const BLOCK = 64;
const BATCH = 12;

/** The slice of gpt-tfjs's CommonJS API this bench uses (the package ships no types). */
interface GptTfjs {
  model: {
    GPTLMHeadModel(config: Record<string, unknown>): { model: { apply(x: tf.Tensor): tf.Tensor } };
  };
  optimizers: {
    AdamW: new (params: Record<string, unknown>) => tf.Optimizer;
    clipByGlobalNormObj(grads: tf.NamedTensorMap, clipNorm: number): tf.NamedTensorMap;
  };
}

/** Command-line options. */
interface Options {
  /** tfjs backend to time on. */
  readonly backend: 'wasm' | 'cpu';
  /** Timed steps; the median is reported. */
  readonly steps: number;
  /** Untimed steps first (kernel set-up, allocator growth). */
  readonly warmup: number;
}

function parseArgs(argv: readonly string[]): Options {
  let backend: 'wasm' | 'cpu' = 'wasm';
  let steps = 5;
  let warmup = 2;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--backend' && (value === 'wasm' || value === 'cpu')) backend = value;
    else if ((flag === '--steps' || flag === '--warmup') && value !== undefined && /^\d+$/.test(value)) {
      if (flag === '--steps') steps = Number(value);
      else warmup = Number(value);
    } else {
      throw new Error(
        `Unrecognised argument "${flag}${value === undefined ? '' : ' ' + value}": ` +
          'use --backend wasm|cpu, --steps N, --warmup N.',
      );
    }
    i++;
  }
  if (steps < 1) throw new Error('--steps must be at least 1.');
  return { backend, steps, warmup };
}

/**
 * out[ids[i], j] += x[i, j]: the kernel Gather's gradient calls, computed in JS on the wasm heap.
 * Ids outside [0, numSegments) are dropped, as tfjs's cpu kernel does.
 */
function registerWasmUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') !== undefined) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const wasm = backend as BackendWasm;
      const x = inputs.x as tf.TensorInfo; // (N, ...inner)
      const segmentIds = inputs.segmentIds as tf.TensorInfo; // (N)
      const numSegments = attrs?.numSegments as number;
      const idRank = segmentIds.shape.length;
      const outShape = [numSegments, ...x.shape.slice(idRank)];
      const xs = wasm.readSync(x.dataId) as Float32Array | Int32Array;
      const ids = wasm.readSync(segmentIds.dataId) as Int32Array;
      const inner = ids.length === 0 ? 0 : xs.length / ids.length;
      const out = wasm.makeOutput(outShape, x.dtype); // (numSegments, ...inner)
      const acc = wasm.typedArrayFromHeap(out);
      acc.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue;
        for (let j = 0; j < inner; j++) acc[s * inner + j] += xs[i * inner + j];
      }
      return out;
    },
  });
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const require = createRequire(import.meta.url);
  // gpt-tfjs requires the @tensorflow/tfjs union package; it must share this file's tfjs-core
  // engine, or its variables and our backend choice would live in different worlds.
  const tfjsUnion = require('@tensorflow/tfjs') as { engine(): unknown };
  if (tfjsUnion.engine() !== tf.engine()) {
    throw new Error(
      '@tensorflow/tfjs loaded a second copy of tfjs-core: dedupe node_modules so one tfjs-core 4.22 is installed.',
    );
  }
  const gpt = require('gpt-tfjs') as GptTfjs;

  if (opts.backend === 'wasm') registerWasmUnsortedSegmentSum();
  if (!(await tf.setBackend(opts.backend))) {
    throw new Error(`Backend "${opts.backend}" failed to initialise: try --backend cpu.`);
  }
  await tf.ready();

  const { model } = gpt.model.GPTLMHeadModel({
    vocabSize: VOCAB,
    blockSize: BLOCK,
    nLayer: 4,
    nHead: 4,
    nEmbd: 128,
    dropout: 0,
    embdDrop: 0,
    residDrop: 0,
    bias: true,
  });

  // nanoGPT's rule: decay matrices and embeddings (rank >= 2), not biases or LayerNorm params.
  const vars = Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
  const decayed = vars.filter((v) => v.rank >= 2).map((v) => v.name);
  const nParams = vars.reduce((n, v) => n + v.size, 0);
  // gpt-tfjs's train() passes AdamW positional arguments its constructor ignores, so build it here.
  const opt = new gpt.optimizers.AdamW({
    learningRate: 1e-3,
    beta1: 0.9,
    beta2: 0.99,
    epsilon: 1e-8,
    weightDecayRate: 0.1,
    includeInWeightDecay: decayed,
  });

  const rng = createRng(1337);
  const total = opts.warmup + opts.steps;
  const batches = Array.from({ length: total }, () => {
    const ids = Int32Array.from({ length: BATCH * BLOCK }, () => rng.nextInt(VOCAB));
    const targets = Int32Array.from({ length: BATCH * BLOCK }, () => rng.nextInt(VOCAB));
    return { ids, targets };
  });

  const times: number[] = [];
  let lastLoss = NaN;
  for (let step = 0; step < total; step++) {
    const { ids, targets } = batches[step];
    const t0 = performance.now();
    const x = tf.tensor2d(ids, [BATCH, BLOCK], 'int32'); // (B, T)
    // gpt-tfjs trains against one-hot targets with tf.losses.softmaxCrossEntropy.
    const y = tf.tidy(() => tf.oneHot(tf.tensor2d(targets, [BATCH, BLOCK], 'int32'), VOCAB)); // (B, T, V)
    const loss = tf.tidy(() => {
      const { value, grads } = opt.computeGradients(() => {
        const logits = model.apply(x); // (B, T, V)
        return tf.losses.softmaxCrossEntropy(y, logits); // ()
      });
      opt.applyGradients(gpt.optimizers.clipByGlobalNormObj(grads, 1));
      return value; // ()
    });
    lastLoss = (await loss.data())[0];
    const dt = performance.now() - t0;
    tf.dispose([x, y, loss]);
    if (step >= opts.warmup) times.push(dt);
    process.stderr.write(`# step ${step + 1}/${total}: ${dt.toFixed(0)} ms, loss ${lastLoss.toFixed(4)}, tensors ${tf.memory().numTensors}\n`);
  }

  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const ms = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const threads = opts.backend === 'wasm' ? getThreadsCount() : 1;
  process.stderr.write(
    `# gpt-tfjs 0.0.5 on ${tf.getBackend()}, ${nParams} params, ${opts.steps} timed steps, ` +
      `min ${sorted[0].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms\n`,
  );
  const line = {
    impl: 'gpt-tfjs',
    threads,
    ms_per_iter: Math.round(ms * 100) / 100,
    tokens_per_sec: Math.round(((BATCH * BLOCK) / (ms / 1000)) * 10) / 10,
    // maxRSS is reported in KiB.
    peak_rss_mib: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    backend: tf.getBackend(),
  };
  console.log(JSON.stringify(line));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
