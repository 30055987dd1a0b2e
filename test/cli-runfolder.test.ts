import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliHarness } from './cliHarness.js';

// Training runs on disk: a kill between the renames of a save, the lock, an existing run.
const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-runfolder-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const corpus = join(scratch, 'corpus.txt');
writeFileSync(corpus, 'the quick brown fox jumps over the lazy dog. '.repeat(40));
const tiny = ['--data', corpus, '--backend', process.env.TINYGPT_BACKEND ?? 'cpu', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16',
  '--batch-size', '4', '--eval-interval', '5', '--eval-iters', '2'];
const cli = cliHarness();
// Each call sees only its own stderr.
const run = (...argv: string[]) => {
  cli.errors.length = 0;
  return cli.run(...argv);
};
/** The line of stderr that starts with `prefix`. */
const lineOf = (err: string, prefix: string): string | undefined => err.split('\n').find((l) => l.startsWith(prefix));

const evalSteps = (dir: string): number[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number })
    .filter((r) => r.kind === 'eval').map((r) => r.step);

/** The CLI in a real child process (tsx), as a user runs it. */
function child(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TINYGPT_DEBUG: '', ...env },
  });
}

describe('a save killed between its two renames', () => {
  it('is recovered on the next start: the newer complete copy is promoted and resumes exactly', async () => {
    const a = join(scratch, 'killed');
    // Saves at steps 5 (a plain rename: no checkpoint yet) and 10 (the first two-rename swap): kill -9 inside that swap.
    const p = child(['train', '--out', a, '--max-iters', '10', ...tiny], { TINYGPT_TEST_KILL_BETWEEN_RENAMES: '1' });
    expect(p.signal).toBe('SIGKILL');
    const left = readdirSync(a).sort();
    expect(left.filter((f) => f === 'ckpt')).toEqual([]); // the state between the renames: no ckpt/
    expect(left.filter((f) => f.startsWith('ckpt.old-')).length).toBe(1); // step 5, displaced
    expect(left.filter((f) => f.startsWith('ckpt.tmp-')).length).toBe(1); // step 10, complete
    expect(left).toContain('tinygpt.lock'); // the dead run's lock

    const r = await run('train', '--out', a, '--resume', '--max-iters', '15', ...tiny);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/recovered the checkpoint of an interrupted save \(.*ckpt\.tmp-\d+-\d+ → .*ckpt\)/);
    expect(readdirSync(a).sort()).toEqual(['ckpt', 'metrics.jsonl']); // leftovers and the stale lock gone
    // Resumed from step 10, not from the older copy at step 5 (which would log eval 10 twice).
    expect(evalSteps(a)).toEqual([5, 10, 15]);

    const b = join(scratch, 'straight');
    expect((await run('train', '--out', b, '--max-iters', '15', ...tiny)).code).toBe(0);
    // Bit-identical weights and optimizer moments to the run that was never interrupted.
    for (const f of ['model.safetensors', 'optimizer.safetensors']) {
      expect(readFileSync(join(a, 'ckpt', f)).equals(readFileSync(join(b, 'ckpt', f)))).toBe(true);
    }
    const state = (d: string) => (JSON.parse(readFileSync(join(d, 'ckpt', 'trainer.json'), 'utf8')) as { state: unknown }).state;
    expect(state(a)).toEqual(state(b));
  });
});

describe('the run-folder lock', () => {
  it('refuses a second run on the same --out while the owner lives, and takes over a dead owner\'s lock', async () => {
    const out = join(scratch, 'locked');
    mkdirSync(out);
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(join(out, 'tinygpt.lock'), JSON.stringify({ pid: sleeper.pid }));
      const r = await run('train', '--out', out, '--max-iters', '1', ...tiny);
      expect(r.code).toBe(1);
      expect(lineOf(r.err, `tinygpt train: ${out} is`)).toBe(`tinygpt train: ${out} is in use by another training run (pid ${sleeper.pid}, ${join(out, 'tinygpt.lock')}): wait for it to finish or stop it, or choose another --out.`);
    } finally {
      sleeper.kill('SIGKILL');
    }
    await new Promise((resolve) => sleeper.once('exit', resolve));
    // Now the pid is dead: the stale lock is taken over and released at the end.
    const r = await run('train', '--out', out, '--max-iters', '1', ...tiny);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'tinygpt.lock'))).toBe(false);
  });
});

describe('an --out that already holds a run', () => {
  it('is refused in one line offering --resume or --overwrite; --overwrite starts a fresh metrics file', async () => {
    const out = join(scratch, 'again');
    expect((await run('train', '--out', out, '--max-iters', '5', ...tiny)).code).toBe(0);
    const r = await run('train', '--out', out, '--max-iters', '5', ...tiny);
    expect([r.code, lineOf(r.err, `tinygpt train: ${out} a`)]).toEqual([1, `tinygpt train: ${out} already holds a training run: pass --resume to continue it or --overwrite to start over.`]);
    expect((await run('train', '--out', out, '--max-iters', '10', '--overwrite', ...tiny)).code).toBe(0);
    expect(evalSteps(out)).toEqual([5, 10]); // not [5, 5, 10]: the old log was replaced
    const both = await run('train', '--out', out, '--resume', '--overwrite', ...tiny);
    expect(both.err).toMatch(/--resume continues the run in --out and --overwrite deletes it: choose one/);
  });

  it('--resume rejects a flag that changes the shape and applies changed optimizer flags, saying so', async () => {
    const out = join(scratch, 'changes');
    expect((await run('train', '--out', out, '--max-iters', '5', '--warmup-iters', '2', ...tiny)).code).toBe(0);
    let r = await run('train', '--out', out, '--resume', '--max-iters', '10', ...tiny, '--n-layer', '2');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--resume of .*ckpt cannot take nLayer \(--n-layer\) 2 \(it has 1\): the model's shape is fixed; drop those flags/);
    r = await run('train', '--out', out, '--resume', '--max-iters', '5', ...tiny, '--seed', '7');
    expect(r.err).toMatch(/--resume cannot change seed \(--seed\) from 1337 to 7/);
    // The first run's schedule: lrDecayIters defaulted to maxIters = 5, so extending to 10 runs at minLr.
    r = await run('train', '--out', out, '--resume', '--max-iters', '10', ...tiny, '--lr', '0.0005', '--weight-decay', '0');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/resume: from step 5, lr 0\.001 → 0\.0005, weightDecay 0\.1 → 0 \(the new values apply from here on\)\./);
    expect(r.err).toMatch(/resume: maxIters 5 → 10 from step 5; the cosine decay ends at step 5 \(lrDecayIters\), so steps 5–10 run at minLr 0\.0001; pass --lr-decay-iters 10/);
    const saved = JSON.parse(readFileSync(join(out, 'ckpt', 'trainer.json'), 'utf8')) as { options: Record<string, number> };
    expect(saved.options).toMatchObject({ lr: 0.0005, weightDecay: 0, maxIters: 10, lrDecayIters: 5 });
    // The step-10 record used minLr, as the notice said.
    const lastStep = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; lr: number })
      .filter((x) => x.kind === 'step').at(-1)!;
    expect(lastStep.lr).toBe(1e-4);
  });
});
