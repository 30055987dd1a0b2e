/**
 * Quality of the Shakespeare recipe: val loss at 250, 500, 1000 and 2000 iterations beside
 * nanoGPT's on the same recipe on this machine (its CPU command in nanoGPT's README).
 *   npx tsx bench/shakespeare-quality.ts [--data FILE] [--backend wasm] [--out DIR] [--seed N]
 * Writes a JSON summary line at the end. Takes ~15-30 minutes on 2 cores.
 */
import { parseArgs } from 'node:util';
import { CharTokenizer, setBackend, SHAKESPEARE_CHAR, type BackendName } from '../src/index.js';
import { loadText, trainOnText } from '../src/node.js';

// nanoGPT (PyTorch) on this machine, eval_iters 20: val loss after N iterations.
const NANOGPT_VAL: Record<number, number> = { 250: 2.4447, 500: 2.3141, 1000: 2.0528, 2000: 1.8857 };

const { values } = parseArgs({
  options: { data: { type: 'string' }, backend: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } },
});
const backend = await setBackend((values.backend ?? 'wasm') as BackendName);
const text = await loadText(values.data ?? '../shared/data/tinyshakespeare.txt');
const started = performance.now();
const rows: Array<{ step: number; val: number; nanogpt: number | null; delta: number | null }> = [];
const { model } = await trainOnText({
  text,
  outDir: values.out ?? 'out/bench-shakespeare',
  makeTokenizer: (t) => CharTokenizer.fromText(t),
  model: { ...SHAKESPEARE_CHAR, seed: Number(values.seed ?? SHAKESPEARE_CHAR.seed) },
  train: {},
  progress: false,
  overwrite: true, // a bench re-run replaces its previous output
  onRecord: (r) => {
    if (r.kind !== 'eval') return;
    const ref = NANOGPT_VAL[r.step] ?? null;
    rows.push({ step: r.step, val: r.val, nanogpt: ref, delta: ref === null ? null : r.val - ref });
    console.log(
      `step ${String(r.step).padStart(4)}  train ${r.train.toFixed(4)}  val ${r.val.toFixed(4)}` +
        (ref === null ? '' : `  nanoGPT ${ref.toFixed(4)}  Δ ${(r.val - ref >= 0 ? '+' : '') + (r.val - ref).toFixed(4)}`),
    );
  },
});
model.dispose();
const minutes = (performance.now() - started) / 60000;
console.log(JSON.stringify({ bench: 'shakespeare-quality', backend, minutes: Number(minutes.toFixed(1)), rows }));
