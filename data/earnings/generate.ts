/**
 * Writes the earnings-call sentiment data (src/data/earnings.ts) as JSON lines:
 *   data/earnings/{sft,dpo}-{train,test}.jsonl and data/earnings/corpus.txt (pre-training text)
 *   npx tsx data/earnings/generate.ts [--seed 1337] [--out data/earnings]
 * The same seed always writes the same files.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateEarnings } from '../../src/data/earnings.js';
import { writeFileAtomic } from '../../src/io/atomicWrite.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, out: { type: 'string' } } });
  const seed = values.seed === undefined ? 1337 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be an integer >= 0, got "${values.seed}".`);
  const out = values.out ?? path.dirname(fileURLToPath(import.meta.url));
  const d = generateEarnings(seed);
  const lines = (xs: readonly object[]): string => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
  const files: Array<[string, string]> = [
    ['sft-train.jsonl', lines(d.sftTrain)],
    ['sft-test.jsonl', lines(d.sftTest)],
    ['dpo-train.jsonl', lines(d.dpoTrain)],
    ['dpo-test.jsonl', lines(d.dpoTest)],
    ['corpus.txt', d.corpus.join('\n') + '\n'],
  ];
  for (const [name, text] of files) {
    await writeFileAtomic(path.join(out, name), text);
    console.log(`wrote ${path.join(out, name)} (${text.length} bytes)`);
  }
}

main().catch((e: unknown) => {
  console.error(`generate: ${(e as Error).message}`);
  process.exit(1);
});
