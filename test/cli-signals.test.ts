import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyCheckpointFolder } from '../src/io/checkpointManifest.js';

// Ctrl-C during training, in a real child process (the CLI run with tsx, as a user runs it).
const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-signals-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const corpus = join(scratch, 'corpus.txt');
writeFileSync(corpus, 'the quick brown fox jumps over the lazy dog. '.repeat(40));
// Logging every step and evaluating only at the end: the first step line arrives long before any checkpoint.
const tiny = ['--data', corpus, '--backend', process.env.TINYGPT_BACKEND ?? 'cpu', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16',
  '--batch-size', '4', '--eval-interval', '100000', '--eval-iters', '1'];

interface Exit { code: number | null; signal: NodeJS.Signals | null; stderr: string }

/**
 * Starts `tinygpt train`, sends the first of `signals` once a step line has appeared and each
 * later one once the run has announced the previous (a signal sent twice at once is delivered once).
 */
function trainAndInterrupt(args: string[], signals: NodeJS.Signals[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...args], {
      env: { ...process.env, TINYGPT_DEBUG: '' },
    });
    let stderr = '';
    let sent = 0;
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      const ready = sent === 0 ? /^step \d+\//m.test(stderr) : stderr.split('finishing this step').length - 1 >= sent;
      if (sent < signals.length && ready) p.kill(signals[sent++]);
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const trainerStep = (dir: string): number =>
  (JSON.parse(readFileSync(join(dir, 'ckpt', 'trainer.json'), 'utf8')) as { state: { step: number } }).state.step;

describe('SIGINT / SIGTERM during training', () => {
  it('finishes the step, writes a checkpoint, says how to resume, exits 130; --resume continues', async () => {
    const out = join(scratch, 'int');
    const r = await trainAndInterrupt(['--out', out, '--max-iters', '100000', ...tiny], ['SIGINT']);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: finishing this step and saving a checkpoint \(press Ctrl-C again to exit at once\)\./);
    const m = /interrupted at step (\d+): checkpoint saved in (.*ckpt); continue with: tinygpt train --out (.*) --resume/.exec(r.stderr);
    expect(m).not.toBeNull();
    const step = Number(m![1]);
    expect(step).toBeGreaterThanOrEqual(1);
    expect(trainerStep(out)).toBe(step); // the checkpoint holds exactly the step it names
    expect(readdirSync(out).sort()).toEqual(['ckpt', 'metrics.jsonl']); // no lock, no leftovers

    const resumed = await new Promise<Exit>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', '--out', out, '--resume', '--max-iters', String(step + 2), ...tiny]);
      let stderr = '';
      p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      p.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    });
    expect(resumed.code).toBe(0);
    expect(trainerStep(out)).toBe(step + 2);
  });

  it('SIGTERM does the same; a second signal exits at once, leaving the last checkpoint intact', async () => {
    const out = join(scratch, 'term');
    const r = await trainAndInterrupt(['--out', out, '--max-iters', '100000', ...tiny], ['SIGTERM']);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGTERM: finishing this step/);
    const first = trainerStep(out);
    const again = await trainAndInterrupt(['--out', out, '--resume', '--max-iters', '100000', ...tiny], ['SIGINT', 'SIGINT']);
    expect(again.code).toBe(130);
    expect(again.stderr).toMatch(/SIGINT again: exiting now; the last checkpoint is intact\./);
    // Whether the second Ctrl-C landed before or during the new save, ckpt/ is a whole checkpoint
    // (its manifest verifies) of the first run's step or of the new one.
    const check = await verifyCheckpointFolder(join(out, 'ckpt'));
    expect(check.ok).toBe(true);
    expect(trainerStep(out)).toBeGreaterThanOrEqual(first);
  });
});
