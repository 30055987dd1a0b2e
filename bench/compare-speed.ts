/**
 * The issue-4 comparison in one invocation: tinygpt's training step (bench/train-speed.ts, wasm),
 * the same model and step in PyTorch (bench/reference/nanogpt_step.py, OMP_NUM_THREADS equal to
 * our thread count) and gpt-tfjs (bench/gpt-tfjs-speed.ts), run one after another — never at once,
 * since two benchmarks on two cores ruin each other — then the ratios.
 *   npx tsx bench/compare-speed.ts [--steps 20] [--skip-gpt-tfjs]
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

interface Result {
  readonly impl: string;
  readonly ms_per_iter: number;
  readonly tokens_per_sec: number;
  readonly peak_rss_mib?: number;
}

const { values } = parseArgs({ options: { steps: { type: 'string' }, 'skip-gpt-tfjs': { type: 'boolean' } } });
const steps = values.steps ?? '20';
const THREADS = '1'; // tinygpt's wasm backend runs one thread in Node

function runJson(cmd: string, args: string[], env: Record<string, string> = {}): Result | null {
  const p = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  const line = p.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (p.status !== 0 || !line) {
    console.error(`${cmd} ${args.join(' ')} failed: ${p.stderr.trim().split('\n').slice(-2).join(' / ')}`);
    return null;
  }
  return JSON.parse(line) as Result;
}

const tsx = ['--import', 'tsx'];
const ours = runJson(process.execPath, [...tsx, 'bench/train-speed.ts', '--backend', 'wasm', '--steps', steps]);
const torch = runJson('/usr/bin/python3', ['bench/reference/nanogpt_step.py', '--threads', THREADS, '--steps', steps], {
  OMP_NUM_THREADS: THREADS,
});
const gptTfjs = values['skip-gpt-tfjs']
  ? null
  : runJson(process.execPath, [...tsx, 'bench/gpt-tfjs-speed.ts', '--backend', 'wasm', '--steps', '5']);

const fmt = (r: Result | null) =>
  r ? `${r.ms_per_iter.toFixed(1).padStart(8)} ms/iter ${r.tokens_per_sec.toFixed(0).padStart(7)} tok/s  RSS ${r.peak_rss_mib?.toFixed(0) ?? '?'} MiB` : '   (not run)';
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`tinygpt (wasm, 1 thread)  ${fmt(ours)}`);
console.log(`PyTorch (1 thread)        ${fmt(torch)}`);
console.log(`gpt-tfjs (wasm)           ${fmt(gptTfjs)}`);
const ratio = (a: Result | null, b: Result | null) => (a && b ? +(a.tokens_per_sec / b.tokens_per_sec).toFixed(3) : null);
const summary = { tinygpt_over_pytorch: ratio(ours, torch), tinygpt_over_gpt_tfjs: ratio(ours, gptTfjs) };
console.log(`tinygpt/PyTorch tokens/s: ${summary.tinygpt_over_pytorch ?? '?'}   tinygpt/gpt-tfjs: ${summary.tinygpt_over_gpt_tfjs ?? '?'}`);
console.log(JSON.stringify({ bench: 'compare-speed', ours, torch, gptTfjs, ...summary }));
