/**
 * The embedding gradient for large vocabularies, side by side in one run on wasm: the one-hot
 * product onehot(ids)ᵀ·dY (what tinygpt used for every vocabulary before) against scatterRows
 * (dY's rows added into a zero table, what it uses above 256 tokens now), for the recipe's 768
 * positions at a BPE vocabulary of 1,024 (width 128) and GPT-2's 50,257 (width 768).
 *   npx tsx bench/embedding-grad.ts [--reps 5]
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setBackend } from '../src/backend.js';
import { scatterRows } from '../src/ops/wasm/scatterRows.js';
import { createRng } from '../src/util/rng.js';

const { values } = parseArgs({ options: { reps: { type: 'string' } } });
const reps = Number(values.reps ?? 5);
const backend = await setBackend('wasm');

/** Median ms of `reps` runs of f (after one warm-up), each synced by reading the result. */
function time(f: () => tf.Tensor): number {
  const runs: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    const out = f();
    out.dataSync();
    out.dispose();
    if (r > 0) runs.push(performance.now() - t0);
  }
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)];
}

const rng = createRng(1);
const rows: Array<Record<string, number>> = [];
for (const [vocab, width] of [[1024, 128], [50257, 768]]) {
  const n = 768;
  const ids = tf.tensor1d(Array.from({ length: n }, () => rng.nextInt(vocab)), 'int32'); // (N)
  const dy = tf.randomNormal([n, width], 0, 1, 'float32', 1) as tf.Tensor2D; // (N, C)
  const oneHot = () => tf.tidy(() => tf.matMul(tf.transpose(tf.cast(tf.oneHot(ids, vocab), 'float32')), dy)); // (V, C)
  const scatter = () => scatterRows(ids, dy, vocab); // (V, C)
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(oneHot(), scatter()))).dataSync()[0]);
  const [a, b] = [time(oneHot), time(scatter)];
  rows.push({ vocab, width, positions: n, one_hot_ms: +a.toFixed(1), scatter_ms: +b.toFixed(2), speedup: +(a / b).toFixed(1), max_abs_diff: diff });
  tf.dispose([ids, dy]);
}
for (const r of rows) {
  console.log(`vocab ${String(r.vocab).padStart(6)} × ${r.width}, ${r.positions} positions: one-hot ${r.one_hot_ms} ms, scatter ${r.scatter_ms} ms (×${r.speedup}), max |diff| ${r.max_abs_diff}`);
}
console.log(JSON.stringify({ bench: 'embedding-grad', backend, reps, rows }));
