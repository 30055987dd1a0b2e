/**
 * Peak memory of reading and tokenizing a large corpus: a synthetic English-like text of
 * --mb megabytes (default 50) is written to a temp folder, then each mode runs in a child
 * process of its own (so each peak RSS is its own) and prints its peak RSS:
 *   stream-char  charTokenizerOfFile + encodeTextFile + TextDataset (copy: false), as `tinygpt train` does now
 *   stream-bpe   the same with a 1,024-token BPE learnt on the first 1 MB
 *   whole-char   the old path: loadText (the whole file), encode to number[], Int32Array.from, TextDataset (copies)
 *
 *   npx tsx bench/corpus-memory.ts [--mb 50]
 *
 * Issue 18 measured 1.37 GB for the old path at 50 MB.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { charTokenizerOfFile, encodeTextFile, readTextPrefix } from '../src/data/corpus.js';
import { TextDataset } from '../src/data/dataset.js';
import { loadText } from '../src/data/text.js';
import { BPETokenizer } from '../src/tokenizer/bpe.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { createRng } from '../src/util/rng.js';

const MODES = ['stream-char', 'stream-bpe', 'whole-char'] as const;
type Mode = (typeof MODES)[number];

const WORDS = ('the of and to in a is that for it as was with be by on not he this are or his from at which but have an they ' +
  'you were her all she there would their we him been has when who will more no if out so said what up its about into than ' +
  'king queen lord speak night heart love death honour crown sword').split(' ');

/** Writes `mb` megabytes of sentences drawn from WORDS (seeded, so every run writes the same bytes). */
function writeCorpus(file: string, mb: number): void {
  const rng = createRng('corpus-memory');
  const fd = openSync(file, 'w');
  let written = 0;
  while (written < mb * 1e6) {
    const lines: string[] = [];
    for (let l = 0; l < 1000; l++) {
      const n = 4 + rng.nextInt(12);
      const words = Array.from({ length: n }, () => WORDS[rng.nextInt(WORDS.length)]);
      lines.push(`${words.join(' ')}.`);
    }
    const chunk = `${lines.join('\n')}\n`;
    writeSync(fd, chunk);
    written += chunk.length;
  }
  closeSync(fd);
}

async function runMode(mode: Mode, file: string): Promise<void> {
  const t0 = performance.now();
  let ids: Int32Array;
  if (mode === 'whole-char') {
    const text = await loadText(file);
    const tok = CharTokenizer.fromText(text);
    ids = new TextDataset(Int32Array.from(tok.encode(text))).train;
  } else {
    const tok = mode === 'stream-char' ? await charTokenizerOfFile(file) : BPETokenizer.train(await readTextPrefix(file, 1 << 20), 1024);
    ids = new TextDataset(await encodeTextFile(file, tok), { copy: false }).train;
  }
  const peakMB = process.resourceUsage().maxRSS / 1024;
  console.log(`${mode.padEnd(12)} ${String(ids.length).padStart(10)} train ids  peak RSS ${peakMB.toFixed(0).padStart(5)} MB  ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const { values } = parseArgs({ options: { mb: { type: 'string' }, mode: { type: 'string' }, file: { type: 'string' } } });
if (values.mode !== undefined) {
  await runMode(values.mode as Mode, values.file!);
} else {
  const mb = Number(values.mb ?? 50);
  const dir = mkdtempSync(join(tmpdir(), 'tinygpt-corpus-memory-'));
  try {
    const file = join(dir, 'corpus.txt');
    writeCorpus(file, mb);
    console.log(`corpus: ${mb} MB of synthetic text in ${file}`);
    for (const mode of MODES) {
      const p = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--mode', mode, '--file', file], { stdio: 'inherit' });
      if (p.status !== 0) console.log(`${mode}: failed (exit ${p.status ?? p.signal})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
