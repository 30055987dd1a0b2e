/**
 * Generation speed: tokens/s for 500 new tokens without a cache, with the tensor KV cache and with
 * the tensor-free decoder (generate's default on wasm), for the Shakespeare recipe model (block
 * 64; a trained checkpoint if --checkpoint is given, else random weights of the same shape) and
 * for the same model widened to block 256 and for the Gemma-style gemma3-tiny (random weights), beside a nanoGPT-style PyTorch sampler
 * (bench/reference/nanogpt_sample.py: no cache, block 64). This machine is shared and noisy, so
 * every measurement is repeated in --rounds interleaved rounds (all modes, then PyTorch) and the
 * medians are reported, with the median of the per-round ratios.
 *   npx tsx bench/generate-speed.ts [--checkpoint out/shakespeare] [--tokens 500] [--rounds 3] [--no-python]
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { GPT, generateAll, loadTrained, PRESETS, setBackend, SHAKESPEARE_CHAR } from '../src/index.js';

const { values } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    tokens: { type: 'string' },
    rounds: { type: 'string' },
    'no-python': { type: 'boolean' },
  },
});
const tokens = Number(values.tokens ?? 500);
const rounds = Number(values.rounds ?? 3);
const backend = await setBackend('wasm');

/** The three ways generate can step: full re-reads, the tensor KV cache, the tensor-free decoder. */
const MODES = {
  no_cache: { cache: false },
  tensor_cache: { cache: true, fastDecoder: false },
  decoder: { cache: true, fastDecoder: true },
} as const;
type Mode = keyof typeof MODES;

async function rate(model: GPT, mode: Mode): Promise<number> {
  const opts = { maxNewTokens: tokens, doSample: true, temperature: 0.8, topK: 200, seed: 1337, ...MODES[mode] };
  // Warm-up long enough for several window re-reads: the JIT has optimised the decoder's loops.
  await generateAll(model, [0], { ...opts, maxNewTokens: 100 });
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const out = await generateAll(model, [0], opts);
  const seconds = (performance.now() - t0) / 1000;
  if (tf.memory().numTensors !== before) throw new Error(`numTensors grew from ${before} to ${tf.memory().numTensors}`);
  return out.length / seconds;
}

function pytorchRate(): number | null {
  const py = '/usr/bin/python3';
  if (values['no-python'] || !existsSync(py)) return null;
  const p = spawnSync(py, ['bench/reference/nanogpt_sample.py', '--tokens', String(tokens)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  const line = p.stdout.trim().split('\n').pop();
  if (p.status === 0 && line) return (JSON.parse(line) as { tokens_per_sec: number }).tokens_per_sec;
  console.error(`PyTorch reference skipped: ${p.stderr.trim().split('\n').pop() ?? 'failed'}`);
  return null;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const recipe = values.checkpoint
  ? (await loadTrained(values.checkpoint)).model
  : new GPT({ ...SHAKESPEARE_CHAR, vocabSize: 65 });
const wide = new GPT({ ...SHAKESPEARE_CHAR, vocabSize: 65, blockSize: 256 });
const gemma = new GPT(PRESETS['gemma3-tiny']);
const models = [['recipe (block 64)', recipe], ['block 256', wide], ['gemma3-tiny', gemma]] as const;
const samples = models.map(() => ({ no_cache: [] as number[], tensor_cache: [] as number[], decoder: [] as number[] }));
const pytorch: number[] = [];
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (const [i, [, model]] of models.entries()) {
    for (const mode of Object.keys(MODES) as Mode[]) samples[i][mode].push(await rate(model, mode));
  }
  const py = pytorchRate();
  if (py !== null) {
    pytorch.push(py);
    ratios.push(samples[0].decoder[r] / py);
  }
}
models.forEach(([, m]) => m.dispose());

const rows = models.map(([name, model], i) => {
  const m = (k: Mode) => +median(samples[i][k]).toFixed(1);
  return { model: name, blockSize: model.config.blockSize, no_cache: m('no_cache'), tensor_cache: m('tensor_cache'), decoder: m('decoder'), speedup: +(m('decoder') / m('no_cache')).toFixed(2) };
});
console.log(`backend ${backend}, ${tokens} new tokens, temperature 0.8, top-k 200, median of ${rounds} rounds`);
for (const r of rows) {
  const cell = (k: 'no_cache' | 'tensor_cache' | 'decoder') => `${k} ${String(r[k]).padStart(7)} tok/s`;
  console.log(`${r.model.padEnd(18)} ${cell('no_cache')}   ${cell('tensor_cache')}   ${cell('decoder')}   decoder/no_cache ×${r.speedup}`);
}
const py = pytorch.length > 0 ? +median(pytorch).toFixed(1) : null;
const ratio = ratios.length > 0 ? +median(ratios).toFixed(2) : null;
if (py !== null) {
  console.log(`nanoGPT-style PyTorch sampler (no cache, block 64, 1 thread): ${py} tok/s (rounds: ${pytorch.join(', ')})`);
  console.log(`tinygpt (default: decoder) / PyTorch, per round: ${ratios.map((x) => x.toFixed(2)).join(', ')}; median ${ratio}`);
}
const perRound = models.map(([name], i) => ({ model: name, ...samples[i] }));
console.log(JSON.stringify({ bench: 'generate-speed', backend, tokens, rounds, rows, pytorch_tokens_per_sec: py, decoder_over_pytorch: ratio, per_round: perRound, pytorch_per_round: pytorch }));
