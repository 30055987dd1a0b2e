/**
 * `tinygpt sample` against the bare generator: the time to produce --tokens (default 50,000)
 * new tokens (a) with generateAll alone, (b) through the CLI in this process (checkpoint load,
 * incremental decoding, stop handling, stdout writes into a byte counter) and (c) through the
 * CLI as a child process whose stdout is a pipe drained by this process, minus the same child's
 * run for 1 token (start-up and load). Before incremental decoding, (b) and (c) grew
 * quadratically (40k tokens: 63 s). The model is small (random weights, so the text is noise;
 * the shape, not the quality, sets the speed), or --checkpoint DIR. Rounds are interleaved
 * and medians reported; run it on a quiet machine:
 *   npx tsx bench/sample-stream.ts [--tokens 50000] [--rounds 3] [--tokenizer char|bpe] [--checkpoint DIR] [--backend wasm]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { main } from '../src/cli/run.js';
import { BPETokenizer, CharTokenizer, generateAll, GPT, loadTrained, saveCheckpoint, setBackend, type BackendName } from '../src/index.js';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string' },
    rounds: { type: 'string' },
    tokenizer: { type: 'string' },
    checkpoint: { type: 'string' },
    backend: { type: 'string' },
  },
});
const tokens = Number(values.tokens ?? 50_000);
const rounds = Number(values.rounds ?? 3);
const backendFlag = (values.backend ?? 'wasm') as BackendName;
const backend = await setBackend(backendFlag);

// A corpus written for this bench: accented letters make byte-level BPE split characters.
const CORPUS = 'À la claire fontaine, m’en allant promener;\nj’ai trouvé l’eau si belle que je m’y suis baigné.\nÜber Stock und Stein, naïve café crème.\n'.repeat(20);
const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-bench-stream-'));
let dir = values.checkpoint;
if (dir === undefined) {
  dir = join(scratch, 'ckpt');
  const tok = values.tokenizer === 'bpe' ? BPETokenizer.train(CORPUS, 300) : CharTokenizer.fromText(CORPUS);
  const model = new GPT({ vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 64, seed: 1 });
  await saveCheckpoint(dir, { config: { model_type: 'tinygpt', ...model.config }, weights: model.namedWeights(), tokenizer: tok.toJSON() });
  model.dispose();
}
const sampleArgs = (n: number): string[] => ['sample', '--checkpoint', dir as string, '--max-new-tokens', String(n), '--backend', backendFlag];

async function bare(): Promise<number> {
  const { model, tokenizer } = await loadTrained(dir as string);
  const t0 = performance.now();
  const out = await generateAll(model, tokenizer.encode('\n'), { maxNewTokens: tokens, doSample: true, temperature: 0.8, topK: 200, seed: 1337 });
  const s = (performance.now() - t0) / 1000;
  model.dispose();
  if (out.length !== tokens) throw new Error(`generateAll gave ${out.length} tokens, not ${tokens}`);
  return s;
}

async function cliInProcess(): Promise<number> {
  const write = process.stdout.write;
  let bytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => ((bytes += chunk.length), true)) as typeof process.stdout.write;
  const t0 = performance.now();
  let code: number;
  try {
    code = await main(sampleArgs(tokens));
  } finally {
    process.stdout.write = write;
  }
  const s = (performance.now() - t0) / 1000;
  if (code !== 0 || bytes < tokens) throw new Error(`tinygpt sample exited ${code} after ${bytes} bytes`);
  return s;
}

function child(n: number): number {
  const t0 = performance.now();
  const p = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...sampleArgs(n)], { maxBuffer: 1 << 30 });
  const s = (performance.now() - t0) / 1000;
  if (p.status !== 0) throw new Error(`child exited ${p.status}: ${p.stderr.toString().trim().split('\n').pop()}`);
  return s;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

await bare(); // warm-up: JIT and kernels
const runs = { bare: [] as number[], cli: [] as number[], child: [] as number[], childStartup: [] as number[] };
for (let r = 0; r < rounds; r++) {
  runs.bare.push(await bare());
  runs.cli.push(await cliInProcess());
  runs.childStartup.push(child(1));
  runs.child.push(child(tokens) - runs.childStartup[r]);
}
rmSync(scratch, { recursive: true, force: true });

const m = (k: keyof typeof runs): number => +median(runs[k]).toFixed(3);
console.error(`backend ${backend}, ${tokens} new tokens (sampling, temperature 0.8, top-k 200), median of ${rounds} rounds`);
console.error(`bare generateAll:           ${m('bare')} s`);
console.error(`tinygpt sample in-process:  ${m('cli')} s   (×${(m('cli') / m('bare')).toFixed(2)} of bare)`);
console.error(`tinygpt sample child:       ${m('child')} s   (×${(m('child') / m('bare')).toFixed(2)} of bare; start-up ${m('childStartup')} s subtracted)`);
console.log(JSON.stringify({ bench: 'sample-stream', backend, tokens, rounds, median_s: { bare: m('bare'), cli: m('cli'), child: m('child'), child_startup: m('childStartup') }, runs }));
