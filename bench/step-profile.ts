/**
 * Where one training step's time goes on wasm: the recipe's step of bench/train-speed.ts (vocab
 * 65, block 64, 4 layers, 4 heads, 128 embd, batch 12; forward, cross-entropy, gradients, clip
 * 1.0, AdamW) run under tf.profile, kernel times summed by kernel name, with the share that is
 * 2-D matMul (the products XNNPACK runs at full speed) against everything else, and the step's
 * time outside any kernel (tape, tidy, JS glue). Kernel times on wasm are wall-clock spans of
 * synchronous calls, so they add up to the kernels' part of the step.
 *
 *   npx tsx bench/step-profile.ts [--backend wasm|cpu] [--steps 3] [--warmup 2] [--top 25] [--optimizer adamw|none]
 *                                 [--wide] [--batch B]
 *
 * --wide profiles bench/compare-speed.ts's wide workload instead (6 layers, 6 heads, 384 embd,
 * block 256, batch 8); --batch sets the rows of either (e.g. one worker's share: 6 of the recipe's
 * 12 on 2 workers, 4 of the wide 8).
 *
 * --optimizer none stops after the gradients (no clip, no AdamW): the model's own forward and
 * backward, the part that src/ops, src/attention and src/block decide. Besides the profiled steps,
 * as many unprofiled steps are timed, alternating with them; their median is step_ms_unprofiled and
 * their fastest step_ms_unprofiled_min (the one least disturbed by other processes): tf.profile adds
 * bookkeeping per kernel, so the profiled step overstates the time outside kernels. The unprofiled
 * steps' own 2-D products are timed too (a clock around each product's kernel, nothing else), and
 * unprofiled_over_own_matmul2d is the median over those steps of step / its products: the issue's
 * "step within 1.3x its 2-D matMuls", with both sides from the same step and no profiler.
 *
 * Prints a table (per kernel: calls, ms per step, share) and one JSON line
 *   {"bench":"step-profile","step_ms":..,"kernel_ms":..,"matmul2d_ms":..,"matmul2d_share":..,..}
 * Timings need a quiet machine; the table's proportions are what to read on a busy one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setBackend } from '../src/backend.js';
import { AdamW } from '../src/train/adamw.js';
import { globalNormScale, heapNormScale } from '../src/train/clip.js';
import { createRng } from '../src/util/rng.js';
import { SHAPES, VOCAB, workloadModel } from './workloads.js';


const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    top: { type: 'string' },
    optimizer: { type: 'string' },
    wide: { type: 'boolean' },
    batch: { type: 'string' },
  },
});
const wide = values.wide === true;
const workload = wide ? 'wide' : 'recipe';
const BLOCK = SHAPES[workload].block;
const BATCH = Number(values.batch ?? SHAPES[workload].batch);
if (!(Number.isInteger(BATCH) && BATCH >= 1)) throw new Error(`--batch must be an integer >= 1, got "${values.batch}".`);
const backend = values.backend ?? 'wasm';
if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got "${backend}".`);
const steps = Number(values.steps ?? 3);
const warmup = Number(values.warmup ?? 2);
const top = Number(values.top ?? 25);
const optimizer = values.optimizer ?? 'adamw';
if (optimizer !== 'adamw' && optimizer !== 'none') throw new Error(`--optimizer must be adamw or none, got "${optimizer}".`);
if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(warmup) && warmup >= 0)) {
  throw new Error('--steps must be an integer >= 1 and --warmup an integer >= 0.');
}

/** Kernels that multiply matrices: tfjs's own and tinygpt's (ops/wasm/batchMatMul.ts, matMul.ts). */
const MATMUL_KERNELS = new Set(['BatchMatMul', '_FusedMatMul', 'TinyGptBatchMatMul', 'TinyGptMatMul']);

/**
 * A product is "2-D" when it is one matrix pair: rank 2 operands, or a batch of 1, and the left
 * operand has more than one row. A one-row product 1ᵀ·x is a column sum (how bias gradients were
 * once computed), listed as "(1-row)" and not counted as matrix work.
 */
function isMatMul2D(k: { readonly name: string; readonly inputShapes: number[][] }): boolean {
  if (!MATMUL_KERNELS.has(k.name) || isOneRow(k)) return false;
  const a = k.inputShapes[0] ?? [];
  return a.length === 2 || (a.length === 3 && a[0] === 1);
}

function isOneRow(k: { readonly name: string; readonly inputShapes: number[][] }): boolean {
  const a = k.inputShapes[0] ?? [];
  return MATMUL_KERNELS.has(k.name) && a.length >= 2 && a[a.length - 2] === 1;
}

/**
 * Records that wrap other kernels rather than being one: tf.customGrad functions ("unnamed
 * scope") and op() wrappers ("name__op"). The kernels inside are listed on their own, so
 * counting the wrappers too would count that time twice.
 */
const isWrapper = (name: string) => name === 'unnamed scope' || name.endsWith('__op');

/**
 * Times the 2-D products of unprofiled steps: each registered matMul kernel is re-registered
 * wrapped in two performance.now() calls (~0.1 µs against a product's 0.3-5 ms), so the step's
 * ratio to its products can be read without tf.profile's bookkeeping inflating the step. Kernels
 * on wasm run synchronously, so the span is the product's time.
 */
function timeMatMuls(): { ms: number } {
  const total = { ms: 0 };
  for (const name of MATMUL_KERNELS) {
    const k = tf.getKernel(name, tf.getBackend());
    if (k === undefined) continue;
    const inner = k.kernelFunc;
    const kernelFunc: tf.KernelFunc = (args) => {
      const t0 = performance.now();
      const out = inner(args);
      const shapes = Object.values(args.inputs).map((t) => [...(t as tf.TensorInfo).shape]);
      if (isMatMul2D({ name, inputShapes: shapes })) total.ms += performance.now() - t0;
      return out;
    };
    tf.unregisterKernel(name, tf.getBackend());
    tf.registerKernel({ ...k, kernelFunc });
  }
  return total;
}

await setBackend(backend);
const model = workloadModel(workload);
const named = model.namedWeights();
const names = [...named.keys()];
const vars = [...named.values()];
const opt = new AdamW(named, { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
const rng = createRng(1337);
const draw = () => Int32Array.from({ length: BATCH * BLOCK }, () => rng.nextInt(VOCAB));

/** One step, as bench/train-speed.ts times it; resolves when the loss is read. */
async function step(): Promise<void> {
  const x = tf.tensor2d(draw(), [BATCH, BLOCK], 'int32'); // (B, T)
  const y = tf.tensor2d(draw(), [BATCH, BLOCK], 'int32'); // (B, T)
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => model.loss(x, y), vars);
    if (optimizer === 'none') return value; // (); the gradients are freed with the tidy
    // As train/update.ts's applyUpdate: the clip factor folded into the AdamW update, read off
    // the wasm heap as a number where it can be (then AdamW writes over the weights in place).
    const byName = new Map(names.map((n, i) => [n, grads[vars[i].name]] as const));
    opt.step(byName, undefined, heapNormScale(byName, 1)?.scale ?? globalNormScale(byName, 1).scale);
    return value; // ()
  });
  await loss.data();
  tf.dispose([x, y, loss]);
}

for (let i = 0; i < warmup; i++) await step();
// After the warm-up, which registers tinygpt's kernels on first use.
const unprofiledMatMul = timeMatMuls();
interface Row {
  calls: number;
  ms: number;
}
const byName = new Map<string, Row>();
let kernelMs = 0;
let matmul2dMs = 0;
let stepMs = 0;
let wrapperCalls = 0;
const plainMs: number[] = [];
const plainMatMulMs: number[] = [];
for (let i = 0; i < steps; i++) {
  const tp = performance.now();
  const mm0 = unprofiledMatMul.ms;
  await step();
  plainMs.push(performance.now() - tp);
  plainMatMulMs.push(unprofiledMatMul.ms - mm0);
  const t0 = performance.now();
  const info = await tf.profile(() => step());
  stepMs += performance.now() - t0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : await k.kernelTimeMs;
    const t = typeof ms === 'number' ? ms : 0;
    if (isWrapper(k.name)) {
      wrapperCalls += 1;
      continue;
    }
    const kind = isMatMul2D(k) ? '2-D' : isOneRow(k) ? '1-row' : 'batched';
    const key = MATMUL_KERNELS.has(k.name) ? `${k.name} (${kind})` : k.name;
    const row = byName.get(key) ?? { calls: 0, ms: 0 };
    row.calls += 1;
    row.ms += t;
    byName.set(key, row);
    kernelMs += t;
    if (isMatMul2D(k)) matmul2dMs += t;
  }
}
opt.dispose();
model.dispose();

const per = (x: number) => x / steps;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const unprofiledMs = median(plainMs);
const unprofiledMinMs = Math.min(...plainMs);
const rows = [...byName].sort((a, b) => b[1].ms - a[1].ms);
// Each unprofiled step over its own 2-D products (timed by timeMatMuls): both see the same load
// from other processes, so the ratio moves less than either time does.
const ownRatios = plainMs.map((ms, i) => ms / plainMatMulMs[i]);
const ownRatio = median(ownRatios);
const ownRatioMin = Math.min(...ownRatios);
const plainMatMulMedian = median(plainMatMulMs);
console.log(
  `tinygpt step profile on ${backend} (${wide ? 'wide' : 'recipe'}, batch ${BATCH}, optimizer ${optimizer}): ${steps} profiled steps (after ${warmup} warm-up); ms are per step`,
);
console.log(`${'kernel'.padEnd(30)} ${'calls'.padStart(6)} ${'ms'.padStart(9)} ${'share'.padStart(7)}`);
for (const [name, r] of rows.slice(0, top)) {
  console.log(`${name.padEnd(30)} ${String(r.calls / steps).padStart(6)} ${per(r.ms).toFixed(2).padStart(9)} ${((100 * r.ms) / kernelMs).toFixed(1).padStart(6)}%`);
}
if (rows.length > top) {
  const rest = rows.slice(top).reduce((s, [, r]) => s + r.ms, 0);
  console.log(`${`(${rows.length - top} more kernels)`.padEnd(30)} ${''.padStart(6)} ${per(rest).toFixed(2).padStart(9)} ${((100 * rest) / kernelMs).toFixed(1).padStart(6)}%`);
}
const outside = stepMs - kernelMs;
console.log(`step ${per(stepMs).toFixed(1)} ms (profiled, so slower than unprofiled) = kernels ${per(kernelMs).toFixed(1)} ms + outside kernels ${per(outside).toFixed(1)} ms`);
console.log(`(${wrapperCalls / steps} custom-gradient / op() wrapper records per step left out: their kernels are listed above)`);
console.log(`2-D matMul ${per(matmul2dMs).toFixed(1)} ms = ${((100 * matmul2dMs) / stepMs).toFixed(1)}% of the step; step / 2-D matMul = ${(stepMs / matmul2dMs).toFixed(2)}×`);
console.log(
  `unprofiled step ${unprofiledMs.toFixed(1)} ms (median of ${steps}, fastest ${unprofiledMinMs.toFixed(1)}); ` +
    `unprofiled step / 2-D matMul = ${(unprofiledMs / per(matmul2dMs)).toFixed(2)}×`,
);
console.log(
  `unprofiled steps over their own 2-D matMuls (timed without tf.profile, median ${plainMatMulMedian.toFixed(1)} ms): ` +
    `median ${ownRatio.toFixed(3)}×, lowest ${ownRatioMin.toFixed(3)}×`,
);
console.log(
  JSON.stringify({
    bench: 'step-profile',
    backend,
    workload: wide ? 'wide' : 'recipe',
    batch: BATCH,
    optimizer,
    steps,
    step_ms: +per(stepMs).toFixed(2),
    step_ms_unprofiled: +unprofiledMs.toFixed(2),
    step_ms_unprofiled_min: +unprofiledMinMs.toFixed(2),
    kernel_ms: +per(kernelMs).toFixed(2),
    outside_kernels_ms: +per(outside).toFixed(2),
    matmul2d_ms: +per(matmul2dMs).toFixed(2),
    matmul2d_share: +(matmul2dMs / stepMs).toFixed(3),
    step_over_matmul2d: +(stepMs / matmul2dMs).toFixed(3),
    unprofiled_over_matmul2d: +(unprofiledMs / per(matmul2dMs)).toFixed(3),
    matmul2d_ms_unprofiled: +plainMatMulMedian.toFixed(2),
    unprofiled_over_own_matmul2d: +ownRatio.toFixed(3),
    unprofiled_over_own_matmul2d_min: +ownRatioMin.toFixed(3),
    kernels: Object.fromEntries(rows.map(([n, r]) => [n, { calls: r.calls / steps, ms: +per(r.ms).toFixed(3) }])),
  }),
);
