/**
 * The main job: nanoGPT's Shakespeare-char CPU recipe (4 layers, 4 heads, 128 wide, context 64,
 * batch 12, 2000 iterations), then a 500-character sample. Without --data the corpus is the copy
 * beside the repository when there is one, else downloaded (both checksum-checked).
 *   npm run shakespeare [-- --data path/to/tinyshakespeare.txt] [--max-iters N] [--out DIR] [--resume | --overwrite]
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CharTokenizer, generate, setBackend, SHAKESPEARE_CHAR, streamText } from '../src/index.js';
import { ensureShakespeare, loadText, trainOnText, writeLossPlot } from '../src/node.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    out: { type: 'string' },
    'max-iters': { type: 'string' },
    resume: { type: 'boolean' },
    overwrite: { type: 'boolean' },
  },
});

/** A copy kept beside the repository (../shared/data from its root), as on machines without network. */
const SHARED_COPY = fileURLToPath(new URL('../../shared/data/tinyshakespeare.txt', import.meta.url));

async function main(): Promise<void> {
  const backend = await setBackend('auto');
  // Checked against the corpus checksum and copied to data/ like a download; downloaded otherwise.
  const path = values.data ?? (await ensureShakespeare(existsSync(SHARED_COPY) ? { path: SHARED_COPY } : {}));
  const text = await loadText(path);
  const outDir = values.out ?? 'out/shakespeare';
  console.error(`Shakespeare on ${backend}: ${text.length} characters from ${path}, output in ${outDir}`);

  const { model, tokenizer, checkpointDir } = await trainOnText({
    text,
    outDir,
    makeTokenizer: (t) => CharTokenizer.fromText(t),
    model: SHAKESPEARE_CHAR,
    train: values['max-iters'] ? { maxIters: Number(values['max-iters']) } : {},
    resume: values.resume === true,
    overwrite: values.overwrite === true,
  });
  await writeLossPlot(`${outDir}/metrics.jsonl`, `${outDir}/loss.svg`);
  console.error(`checkpoint saved to ${checkpointDir}, loss curves to ${outDir}/loss.svg; a sample (temperature 0.8, top-k 200):\n`);

  const tokens = generate(model, tokenizer.encode('\n'), { maxNewTokens: 500, doSample: true, temperature: 0.8, topK: 200, seed: 1337 });
  for await (const piece of streamText(tokens, (ids) => tokenizer.decode(ids))) process.stdout.write(piece);
  process.stdout.write('\n');
  model.dispose();
}

main().catch((err: unknown) => {
  // A clear message, not a stack trace from deep inside tfjs (TINYGPT_DEBUG=1 shows it).
  console.error(`shakespeare: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.TINYGPT_DEBUG && err instanceof Error) console.error(err.stack);
  process.exit(1);
});
