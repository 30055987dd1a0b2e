/**
 * The issue-16 comparison in one invocation, one run after another — never at once, since two
 * benchmarks on shared cores ruin each other:
 *   recipe workload (vocab 65, 4 layers, 4 heads, 128 embd, block 64, batch 12):
 *     tinygpt with its defaults (workers 'auto': one per core, sharing each step's rows),
 *     tinygpt with 1 worker, PyTorch at 1 and at 2 threads
 *     (bench/reference/nanogpt_step.py, OMP_NUM_THREADS set explicitly), gpt-tfjs;
 *   wide workload (6 layers, 6 heads, 384 embd, block 256, batch 8): tinygpt default and
 *     1 worker, PyTorch at 1 and 2 threads.
 * Then the scaling from 1 to 2 workers once more with the two Trainers' steps taken in turn in one
 * process (bench/scaling.ts: the host's drift between the runs above cancels out), the ratios
 * (tokens/s) and each run's peak RSS.
 *   npx tsx bench/compare-speed.ts [--steps 20] [--wide-steps 5] [--skip-gpt-tfjs] [--skip-wide]
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

interface Result {
  readonly impl: string;
  readonly ms_per_iter: number;
  readonly tokens_per_sec: number;
  readonly peak_rss_mib?: number;
  readonly workers?: number;
  readonly micro_batches?: string;
}

const { values } = parseArgs({
  options: {
    steps: { type: 'string' },
    'wide-steps': { type: 'string' },
    'skip-gpt-tfjs': { type: 'boolean' },
    'skip-wide': { type: 'boolean' },
  },
});
const steps = values.steps ?? '20';
const wideSteps = values['wide-steps'] ?? '5';
const WIDE = ['--n-layer', '6', '--n-head', '6', '--n-embd', '384', '--block', '256', '--batch', '8'];

function runJson(label: string, cmd: string, args: string[], env: Record<string, string> = {}): Result | null {
  process.stderr.write(`# running ${label} ...\n`);
  const p = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  const line = (p.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (p.status !== 0 || !line) {
    console.error(`${label}: ${cmd} ${args.join(' ')} failed: ${(p.stderr ?? String(p.error)).trim().split('\n').slice(-2).join(' / ')}`);
    return null;
  }
  return JSON.parse(line) as Result;
}

const tsx = ['--import', 'tsx'];
const ours = (workers: string, shape: string, n: string) =>
  runJson(`tinygpt ${shape} workers ${workers}`, process.execPath, [
    ...tsx, 'bench/train-speed.ts', '--backend', 'wasm', '--workers', workers, '--shape', shape, '--steps', n, '--warmup', '2',
  ]);
const torch = (threads: string, n: string, extra: string[] = []) =>
  runJson(`PyTorch ${threads} thread(s)${extra.length ? ' wide' : ''}`, '/usr/bin/python3', ['bench/reference/nanogpt_step.py', '--threads', threads, '--steps', n, ...extra], {
    OMP_NUM_THREADS: threads,
  });

const rows: [string, Result | null][] = [];
const recipe = {
  auto: ours('auto', 'recipe', steps),
  one: ours('1', 'recipe', steps),
  torch1: torch('1', steps),
  torch2: torch('2', steps),
  gptTfjs: values['skip-gpt-tfjs']
    ? null
    : runJson('gpt-tfjs', process.execPath, [...tsx, 'bench/gpt-tfjs-speed.ts', '--backend', 'wasm', '--steps', String(Math.min(5, Number(steps)))]),
};
const wide = values['skip-wide']
  ? null
  : { auto: ours('auto', 'wide', wideSteps), one: ours('1', 'wide', wideSteps), torch1: torch('1', wideSteps, WIDE), torch2: torch('2', wideSteps, WIDE) };

// Scaling once more with the 1-worker and 2-worker steps taken in turn in one process
// (bench/scaling.ts), so that the host's drift between the runs above cancels out of the ratio.
interface Scaling {
  readonly speedup_median: number;
  readonly ms_1: number;
  readonly ms_n: number;
}
const inTurn = (shape: string, n: string, warm: string) =>
  runJson(`scaling ${shape} in turn`, process.execPath, [...tsx, 'bench/scaling.ts', '--shape', shape, '--steps', n, '--warmup', warm]) as unknown as Scaling | null;
const scalingRecipe = inTurn('recipe', String(Math.max(20, Number(steps))), '5');
const scalingWide = wide ? inTurn('wide', wideSteps, '1') : null;

const workersOf = (r: Result | null) => (r?.workers !== undefined ? `${r.workers} worker(s), ${r.micro_batches}` : '');
rows.push(
  [`tinygpt default (${workersOf(recipe.auto)})`, recipe.auto],
  ['tinygpt 1 worker', recipe.one],
  ['PyTorch 1 thread', recipe.torch1],
  ['PyTorch 2 threads', recipe.torch2],
  ['gpt-tfjs (wasm)', recipe.gptTfjs],
);
if (wide) {
  rows.push(
    [`wide: tinygpt default (${workersOf(wide.auto)})`, wide.auto],
    ['wide: tinygpt 1 worker', wide.one],
    ['wide: PyTorch 1 thread', wide.torch1],
    ['wide: PyTorch 2 threads', wide.torch2],
  );
}

const fmt = (r: Result | null) =>
  r
    ? `${r.ms_per_iter.toFixed(1).padStart(9)} ms/iter ${r.tokens_per_sec.toFixed(0).padStart(7)} tok/s  peak RSS ${r.peak_rss_mib?.toFixed(0) ?? '?'} MiB`
    : '   (not run)';
const ratio = (a: Result | null | undefined, b: Result | null | undefined) => (a && b ? +(a.tokens_per_sec / b.tokens_per_sec).toFixed(3) : null);
const faster = (a: Result | null, b: Result | null) => (a && b ? (a.tokens_per_sec >= b.tokens_per_sec ? a : b) : (a ?? b));

console.log(`machine: ${availableParallelism()} cores available, ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [label, r] of rows) console.log(`${label.padEnd(44)} ${fmt(r)}`);
const summary = {
  tinygpt_over_best_pytorch: ratio(recipe.auto, faster(recipe.torch1, recipe.torch2)),
  tinygpt_scaling_auto_over_1_worker: ratio(recipe.auto, recipe.one),
  tinygpt_over_gpt_tfjs: ratio(recipe.auto, recipe.gptTfjs),
  pytorch_2_over_1_thread: ratio(recipe.torch2, recipe.torch1),
  wide_tinygpt_over_best_pytorch: wide ? ratio(wide.auto, faster(wide.torch1, wide.torch2)) : null,
  wide_tinygpt_scaling_auto_over_1_worker: wide ? ratio(wide.auto, wide.one) : null,
  wide_pytorch_2_over_1_thread: wide ? ratio(wide.torch2, wide.torch1) : null,
  tinygpt_scaling_in_turn: scalingRecipe?.speedup_median ?? null,
  wide_tinygpt_scaling_in_turn: scalingWide?.speedup_median ?? null,
};
console.log(
  `recipe: tinygpt/PyTorch(best) ${summary.tinygpt_over_best_pytorch ?? '?'}  tinygpt auto/1 worker ${summary.tinygpt_scaling_auto_over_1_worker ?? '?'}  ` +
    `tinygpt/gpt-tfjs ${summary.tinygpt_over_gpt_tfjs ?? '?'}  PyTorch 2/1 threads ${summary.pytorch_2_over_1_thread ?? '?'}`,
);
if (wide) {
  console.log(
    `wide:   tinygpt/PyTorch(best) ${summary.wide_tinygpt_over_best_pytorch ?? '?'}  tinygpt auto/1 worker ${summary.wide_tinygpt_scaling_auto_over_1_worker ?? '?'}  ` +
      `PyTorch 2/1 threads ${summary.wide_pytorch_2_over_1_thread ?? '?'}`,
  );
}
const turn = (x: Scaling | null) => (x ? `${x.speedup_median}x (1 worker ${x.ms_1} ms, 2 workers ${x.ms_n} ms)` : '(not run)');
console.log(`1 -> 2 workers with the steps taken in turn: recipe ${turn(scalingRecipe)}${wide ? `, wide ${turn(scalingWide)}` : ''}`);
console.log(JSON.stringify({ bench: 'compare-speed', recipe, wide, scaling_in_turn: { recipe: scalingRecipe, wide: scalingWide }, ...summary }));
