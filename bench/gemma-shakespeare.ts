/**
 * A Gemma-3-style model on the Shakespeare recipe: same data, trainer options (2000 iterations,
 * batch 12, block 64) and about the same parameter count as the GPT-2-style 4×128 model of
 * bench/shakespeare-quality.ts, with val loss reported beside that model's.
 *   npx tsx bench/gemma-shakespeare.ts [--iters N] [--preset gemma3-tiny|llama-tiny|shakespeare-char] [--data FILE] [--backend wasm] [--out DIR]
 * Writes a JSON summary line at the end. The full 2000 iterations take ~15-30 minutes on 2 cores.
 * A short run (--iters 200) decays the learning rate within its 200 steps, so compare it with the
 * GPT-2-style model run for as long (--preset shakespeare-char), not with the 2000-step figures.
 */
import { parseArgs } from 'node:util';
import { CharTokenizer, countParams, PRESETS, setBackend, SHAKESPEARE_CHAR, type BackendName } from '../src/index.js';
import { loadText, trainOnText } from '../src/node.js';

// The GPT-2-style model (SHAKESPEARE_CHAR, 804,096 parameters) from bench/shakespeare-quality.ts: val loss at 2000 iterations.
const GPT2_STYLE_VAL: Record<number, number> = { 2000: 1.921 };

const { values } = parseArgs({
  options: {
    iters: { type: 'string' },
    preset: { type: 'string' },
    data: { type: 'string' },
    backend: { type: 'string' },
    out: { type: 'string' },
  },
});
const preset = values.preset ?? 'gemma3-tiny';
if (preset !== 'gemma3-tiny' && preset !== 'llama-tiny' && preset !== 'shakespeare-char') {
  throw new Error(`--preset must be gemma3-tiny, llama-tiny or shakespeare-char, got "${preset}".`);
}
const maxIters = Number(values.iters ?? 2000);
if (!Number.isInteger(maxIters) || maxIters < 1) throw new Error(`--iters must be a positive integer, got "${values.iters}".`);
const backend = await setBackend((values.backend ?? 'wasm') as BackendName);
const text = await loadText(values.data ?? '../shared/data/tinyshakespeare.txt');
const { vocabSize, ...shape } = PRESETS[preset];
const params = countParams({ ...shape, vocabSize });
const baseline = countParams({ ...SHAKESPEARE_CHAR, vocabSize });
console.log(`${preset}: ${params.toLocaleString('en-US')} parameters (GPT-2-style model: ${baseline.toLocaleString('en-US')}), backend ${backend}`);

const started = performance.now();
const rows: Array<{ step: number; train: number; val: number; gpt2Style: number | null }> = [];
// Fewer than 250 iterations (a smoke run) still gets evaluations along the way.
const evalInterval = Math.min(250, Math.max(1, Math.floor(maxIters / 4)));
const { model } = await trainOnText({
  text,
  outDir: values.out ?? `out/bench-${preset}`,
  makeTokenizer: (t) => CharTokenizer.fromText(t),
  model: shape,
  train: { maxIters, evalInterval },
  progress: false,
  overwrite: true, // a bench re-run replaces its previous output
  onRecord: (r) => {
    if (r.kind !== 'eval') return;
    const ref = GPT2_STYLE_VAL[r.step] ?? null;
    rows.push({ step: r.step, train: r.train, val: r.val, gpt2Style: ref });
    const elapsed = (performance.now() - started) / 1000;
    console.log(
      `step ${String(r.step).padStart(4)}  train ${r.train.toFixed(4)}  val ${r.val.toFixed(4)}` +
        (ref === null ? '' : `  GPT-2-style ${ref.toFixed(4)}  Δ ${(r.val - ref >= 0 ? '+' : '') + (r.val - ref).toFixed(4)}`) +
        `  (${elapsed.toFixed(0)} s)`,
    );
  },
});
model.dispose();
const minutes = (performance.now() - started) / 60000;
console.log(JSON.stringify({ bench: 'gemma-shakespeare', preset, params, baselineParams: baseline, backend, maxIters, minutes: Number(minutes.toFixed(1)), rows }));
