/**
 * Generation speed: tokens/s for 500 new tokens with and without the KV cache, for the
 * Shakespeare recipe model (block 64; a trained checkpoint if --checkpoint is given, else random
 * weights of the same shape) and for the same model widened to block 256, beside a nanoGPT-style
 * PyTorch sampler (bench/reference/nanogpt_sample.py: no cache, block 64) run in the same invocation.
 *   npx tsx bench/generate-speed.ts [--checkpoint out/shakespeare] [--tokens 500] [--no-python]
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { GPT, generateAll, loadTrained, setBackend, SHAKESPEARE_CHAR } from '../src/index.js';

const { values } = parseArgs({
  options: { checkpoint: { type: 'string' }, tokens: { type: 'string' }, 'no-python': { type: 'boolean' } },
});
const tokens = Number(values.tokens ?? 500);
const backend = await setBackend('wasm');

async function rate(model: GPT, cache: boolean): Promise<number> {
  const opts = { maxNewTokens: tokens, temperature: 0.8, topK: 200, seed: 1337, cache };
  await generateAll(model, [0], { ...opts, maxNewTokens: 20 }); // warm-up: kernels compiled, caches primed
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const out = await generateAll(model, [0], opts);
  const seconds = (performance.now() - t0) / 1000;
  if (tf.memory().numTensors !== before) throw new Error(`numTensors grew from ${before} to ${tf.memory().numTensors}`);
  return out.length / seconds;
}

const rows: Array<Record<string, unknown>> = [];
const recipe = values.checkpoint
  ? (await loadTrained(values.checkpoint)).model
  : new GPT({ ...SHAKESPEARE_CHAR, vocabSize: 65 });
const wide = new GPT({ ...SHAKESPEARE_CHAR, vocabSize: 65, blockSize: 256 });
for (const [name, model] of [['recipe (block 64)', recipe], ['block 256', wide]] as const) {
  const noCache = await rate(model, false);
  const withCache = await rate(model, true);
  rows.push({ model: name, blockSize: model.config.blockSize, no_cache: +noCache.toFixed(1), cache: +withCache.toFixed(1), speedup: +(withCache / noCache).toFixed(2) });
  model.dispose();
}

let pytorch: number | null = null;
const py = '/usr/bin/python3';
if (!values['no-python'] && existsSync(py)) {
  const p = spawnSync(py, ['bench/reference/nanogpt_sample.py', '--tokens', String(tokens)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  const line = p.stdout.trim().split('\n').pop();
  if (p.status === 0 && line) pytorch = (JSON.parse(line) as { tokens_per_sec: number }).tokens_per_sec;
  else console.error(`PyTorch reference skipped: ${p.stderr.trim().split('\n').pop() ?? 'failed'}`);
}

console.log(`backend ${backend}, ${tokens} new tokens, temperature 0.8, top-k 200`);
for (const r of rows) {
  console.log(`${String(r.model).padEnd(18)} no cache ${String(r.no_cache).padStart(7)} tok/s   cache ${String(r.cache).padStart(7)} tok/s   ×${r.speedup}`);
}
if (pytorch !== null) {
  const ours = rows[0].cache as number;
  console.log(`nanoGPT-style PyTorch sampler (no cache, block 64, 1 thread): ${pytorch} tok/s; tinygpt cached / PyTorch = ${(ours / pytorch).toFixed(2)}`);
}
console.log(JSON.stringify({ bench: 'generate-speed', backend, tokens, rows, pytorch_tokens_per_sec: pytorch }));
