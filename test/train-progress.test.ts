import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MetricsWriter } from '../src/train/metrics.js';
import {
  ProgressReporter,
  formatDuration,
  formatRate,
  formatStep,
  progressBar,
} from '../src/train/progress.js';
import type { EvalRecord, StepRecord } from '../src/train/records.js';

const step: StepRecord = { kind: 'step', step: 120, loss: 2.34567, lr: 1e-3, gradNorm: 0.5, tokensPerSec: 12345, ms: 45 };
const evalRec: EvalRecord = { kind: 'eval', step: 250, train: 2.1, val: 2.25, ms: 1500 };

function sink(isTTY: boolean, columns?: number): { out: string[]; stream: { write(s: string): boolean; isTTY: boolean; columns?: number } } {
  const out: string[] = [];
  return { out, stream: { write: (s: string) => out.push(s) > 0, isTTY, columns } };
}

describe('progress formatting', () => {
  it('formats durations, rates and bars', () => {
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(192_000)).toBe('3m12s'); // 192 s = 3·60 + 12
    expect(formatDuration(3_720_000)).toBe('1h02m'); // 3720 s = 62 min
    expect(formatRate(850)).toBe('850 tok/s');
    expect(formatRate(12_345)).toBe('12.3k tok/s');
    expect(formatRate(1_200_000)).toBe('1.20M tok/s');
    expect(progressBar(50, 100, 10)).toBe('[#####-----]');
    expect(progressBar(0, 100, 4)).toBe('[----]');
  });

  it('puts step, loss, lr, speed and ETA on one line', () => {
    // ETA: (2000 − 120) steps · 45 ms = 84.6 s → 85 s = 1m25s
    expect(formatStep(step, 2000)).toBe(
      'step 120/2000  loss 2.3457  lr 1.00e-3  |g| 0.50  12.3k tok/s  45.0 ms/step  ETA 1m25s',
    );
  });
});

describe('ProgressReporter', () => {
  it('prints one plain line per record when not on a terminal', () => {
    const { out, stream } = sink(false);
    const p = new ProgressReporter({ maxIters: 2000, stream });
    p.report(step);
    p.report(evalRec);
    p.finish();
    expect(out).toEqual([
      `${formatStep(step, 2000)}\n`,
      'eval step 250/2000  train 2.1000  val 2.2500  (2s)\n',
    ]);
  });

  it('redraws a single status line with \\r on a terminal, keeping evaluations above it', () => {
    const { out, stream } = sink(true, 200);
    const p = new ProgressReporter({ maxIters: 200, stream, barWidth: 10 });
    p.report({ ...step, step: 100 });
    // 100/200 fills half the bar
    expect(out[0]).toMatch(/^\r\[#####-----\] step 100\/200  loss 2\.3457/);
    expect(out[0]).not.toContain('\n');
    p.report(evalRec);
    expect(out[1]).toBe('\r\x1b[Keval step 250/200  train 2.1000  val 2.2500  (2s)\n');
    expect(out[2]).toBe(out[0]); // status line restored below the evaluation
    p.finish();
    expect(out[3]).toBe('\n');
  });

  it('truncates the status line to the terminal width', () => {
    const { out, stream } = sink(true, 30);
    new ProgressReporter({ maxIters: 200, stream }).report(step);
    // '\r' + 29 visible characters + the erase-to-end sequence
    expect(out[0].length).toBe(1 + 29 + 3);
  });
});

describe('MetricsWriter', () => {
  it('appends one JSON object per line, across writers', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tinygpt-metrics-'));
    try {
      const out = path.join(dir, 'run1');
      const w = new MetricsWriter(out);
      expect(w.path).toBe(path.join(out, 'metrics.jsonl'));
      w.write(step);
      w.write(evalRec);
      w.close();
      expect(() => w.write(step)).toThrow(/already closed/);
      const w2 = new MetricsWriter(out);
      w2.write({ ...step, step: 130 });
      w2.close();
      const lines = fs.readFileSync(w.path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => [l.kind, l.step])).toEqual([['step', 120], ['eval', 250], ['step', 130]]);
      expect(lines[0]).toMatchObject({ loss: 2.34567, lr: 1e-3, tokensPerSec: 12345 });
      expect(lines[1]).toMatchObject({ train: 2.1, val: 2.25 });
      expect(typeof lines[0].time).toBe('string');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains an unwritable folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tinygpt-metrics-'));
    try {
      const file = path.join(dir, 'not-a-folder');
      fs.writeFileSync(file, '');
      expect(() => new MetricsWriter(file)).toThrow(/cannot open .*metrics\.jsonl for appending .*choose a writable output folder/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cuts a torn last line off on opening, so the next record starts a line of its own', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tinygpt-metrics-'));
    try {
      const file = path.join(dir, 'metrics.jsonl');
      const whole = `${JSON.stringify(step)}\n`;
      const torn = '{"kind":"eval","step":250,"tr'; // 29 bytes: a write cut off by a full disk or a kill
      fs.writeFileSync(file, whole + torn);
      const w = new MetricsWriter(dir);
      expect(w.torn).toBe(29);
      w.write(evalRec);
      w.close();
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      expect(lines.length).toBe(3); // two records and the empty string after the last newline
      expect(lines[0]).toBe(whole.trimEnd());
      expect(JSON.parse(lines[1])).toMatchObject({ kind: 'eval', step: 250, train: 2.1 });
      // A file of only a torn line becomes empty; a clean file is left alone.
      fs.writeFileSync(file, torn);
      expect(new MetricsWriter(dir).torn).toBe(29);
      expect(fs.readFileSync(file, 'utf8')).toBe('');
      fs.writeFileSync(file, whole);
      const clean = new MetricsWriter(dir);
      expect(clean.torn).toBe(0);
      clean.close();
      expect(fs.readFileSync(file, 'utf8')).toBe(whole);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!fs.existsSync('/dev/full'))('names the file on a full disk (a log linked to /dev/full) and keeps no partial line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tinygpt-metrics-'));
    try {
      fs.symlinkSync('/dev/full', path.join(dir, 'metrics.jsonl'));
      const w = new MetricsWriter(dir);
      expect(() => w.write(step)).toThrow(`cannot append to ${path.join(dir, 'metrics.jsonl')}: the disk is full; free some space and resume the run.`);
      w.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
