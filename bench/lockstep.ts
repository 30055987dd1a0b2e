/**
 * Lockstep check against PyTorch: the Shakespeare recipe trained from the same initial weights on
 * the same batches in tinygpt and in bench/reference/lockstep.py (nanoGPT's update: AdamW, warmup +
 * cosine, clip 1.0), comparing the loss of every step. Equal losses mean any remaining difference
 * between runs comes from the random streams (initialisation, batch order), not the maths.
 *   npx tsx bench/lockstep.ts [--steps 200] [--data FILE]
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CharTokenizer, createRng, GPT, setBackend, SHAKESPEARE_CHAR, TextDataset, Trainer } from '../src/index.js';
import type { Split } from '../src/ops.js';

const { values } = parseArgs({ options: { steps: { type: 'string' }, data: { type: 'string' } } });
const steps = Number(values.steps ?? 200);
const data = values.data ?? '../shared/data/tinyshakespeare.txt';
await setBackend('wasm');
const text = readFileSync(data, 'utf8');
const dataset = new TextDataset(Int32Array.from(CharTokenizer.fromText(text).encode(text)));
const { blockSize, batchSize } = { blockSize: SHAKESPEARE_CHAR.blockSize, batchSize: 12 };
const dir = mkdtempSync(join(tmpdir(), 'tinygpt-lockstep-'));

// The batches both sides train on: offsets into the train split, fixed up front.
const rng = createRng(42);
const offsets = Array.from({ length: steps }, () => Array.from({ length: batchSize }, () => rng.nextInt(dataset.train.length - blockSize)));
writeFileSync(join(dir, 'offsets.json'), JSON.stringify(offsets));
const model = new GPT({ ...SHAKESPEARE_CHAR, vocabSize: 65 });
await model.savePretrained(join(dir, 'init'));

let next = 0;
const source = {
  getBatch(split: Split, b: number, t: number) {
    if (split !== 'train' || next >= steps) return dataset.getBatch(split, b, t, createRng(0)); // the final evaluation only
    const xs = new Int32Array(b * t);
    const ys = new Int32Array(b * t);
    offsets[next++].forEach((o, i) => {
      xs.set(dataset.train.subarray(o, o + t), i * t);
      ys.set(dataset.train.subarray(o + 1, o + 1 + t), i * t);
    });
    return { x: tf.tensor2d(xs, [b, t], 'int32'), y: tf.tensor2d(ys, [b, t], 'int32') }; // (B, T) each
  },
};
// The recipe's schedule (decay over 2000 steps) whatever the number of steps compared.
const trainer = new Trainer(model, source, { maxIters: steps, lrDecayIters: 2000, logInterval: 1, evalInterval: steps, evalIters: 1 });
const ours: number[] = [];
for await (const r of trainer.run()) if (r.kind === 'step') ours.push(r.loss);
trainer.dispose();
model.dispose();

const py = spawnSync('/usr/bin/python3', ['bench/reference/lockstep.py', dir, data], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
rmSync(dir, { recursive: true, force: true });
if (py.status !== 0) throw new Error(`lockstep.py failed: ${py.stderr.trim().split('\n').pop()}`);
const theirs = JSON.parse(py.stdout.trim().split('\n').pop() as string) as number[];
const diffs = ours.map((l, i) => Math.abs(l - theirs[i]));
const worst = diffs.reduce((m, d, i) => (d > diffs[m] ? i : m), 0);
for (const i of [0, 1, Math.floor(steps / 2), steps - 1]) console.log(`step ${i + 1}: tinygpt ${ours[i].toFixed(5)}  PyTorch ${theirs[i].toFixed(5)}`);
console.log(`max |Δloss| over ${steps} steps: ${diffs[worst].toExponential(2)} (step ${worst + 1})`);
console.log(JSON.stringify({ bench: 'lockstep', steps, maxAbsDiff: diffs[worst] }));
