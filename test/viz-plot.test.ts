import { describe, expect, it } from 'vitest';
import { lossPlotSvg } from '../src/viz/lossPlot.js';
import { parseMetricsLog, type MetricsLog } from '../src/viz/metricsLog.js';
import { formatTick, niceScale } from '../src/viz/ticks.js';

const line = (o: object): string => JSON.stringify(o);
const step = (s: number, loss: number | null, lr: number): string =>
  line({ kind: 'step', step: s, loss, lr, gradNorm: 1, tokensPerSec: 100, ms: 5, time: '2026-01-01T00:00:00Z' });
const evalRec = (s: number, train: number, val: number): string => line({ kind: 'eval', step: s, train, val, ms: 3 });

/** Text of every <text> element with the given class, in order. */
function texts(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]);
}
/** The d attribute of the path with the given class. */
function pathOf(svg: string, cls: string): string | undefined {
  return new RegExp(`<path class="${cls}" d="([^"]*)"`).exec(svg)?.[1];
}
/** The points of a path "M x y L x y ..." as [x, y] pairs. */
function points(d: string): number[][] {
  return [...d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe('niceScale and formatTick', () => {
  it('picks 1-2-5 steps covering the range', () => {
    expect(niceScale(0, 2000)).toEqual({ min: 0, max: 2000, step: 500, ticks: [0, 500, 1000, 1500, 2000] });
    // (4.23 − 1.1)/5 = 0.626 → step 1; axis [1, 5].
    expect(niceScale(1.1, 4.23).ticks).toEqual([1, 2, 3, 4, 5]);
    // 6e-4/5 = 1.2e-4 → step 2e-4 (not 1.9999999999999998e-4).
    expect(niceScale(0, 6e-4)).toEqual({ min: 0, max: 6e-4, step: 2e-4, ticks: [0, 2e-4, 4e-4, 6e-4] });
    // A single value is widened by 10% each side: [2.7, 3.3], step 0.2 → [2.6, 3.4].
    expect(niceScale(3, 3).ticks).toEqual([2.6, 2.8, 3, 3.2, 3.4]);
    expect(() => niceScale(0, Number.NaN)).toThrow(/finite numbers/);
  });

  it('formats one axis consistently', () => {
    expect([0, 2e-4, 1e-3].map((v) => formatTick(v, 2e-4))).toEqual(['0', '2e-4', '1e-3']);
    expect([1.5e-4].map((v) => formatTick(v, 5e-5))).toEqual(['1.5e-4']);
    expect([2.6, 3].map((v) => formatTick(v, 0.2))).toEqual(['2.6', '3.0']);
    expect([0, 2000, 5000].map((v) => formatTick(v, 1000))).toEqual(['0', '2k', '5k']);
    expect(formatTick(1500, 500)).toBe('1500');
  });
});

describe('parseMetricsLog', () => {
  it('reads step and eval records, skipping blank lines and other kinds', () => {
    const text = [step(10, 4.1, 1e-4), '', evalRec(10, 4, 4.2), line({ kind: 'note', text: 'hi' }), step(20, 3.5, 2e-4), ''].join('\n');
    expect(parseMetricsLog(text)).toEqual({
      steps: [{ step: 10, loss: 4.1, lr: 1e-4 }, { step: 20, loss: 3.5, lr: 2e-4 }],
      evals: [{ step: 10, train: 4, val: 4.2 }],
    });
  });

  it('keeps the later record of a repeated step (a resumed run) and sorts by step', () => {
    const text = [step(10, 4, 1), step(20, 3, 1), step(20, 2.5, 1), step(15, 3.2, 1)].join('\n');
    expect(parseMetricsLog(text).steps.map((p) => [p.step, p.loss])).toEqual([[10, 4], [15, 3.2], [20, 2.5]]);
  });

  it('keeps a non-finite loss (written as null) as a gap', () => {
    expect(parseMetricsLog(step(5, null, 1e-3)).steps).toEqual([{ step: 5, loss: null, lr: 1e-3 }]);
  });

  it('skips a torn line (cut off, or with the next record appended) and names it', () => {
    // Line 2 was cut off by a full disk and line 3 appended onto it by the next run; line 4 is whole.
    const text = [step(1, 2, 3), '{"kind":"step","st', `{"kind":"ev${step(5, 1.5, 3)}`, step(6, 1.25, 3), '{oops'].join('\n');
    const log = parseMetricsLog(text, 'm.jsonl');
    expect(log.steps.map((p) => [p.step, p.loss])).toEqual([[1, 2], [6, 1.25]]);
    expect(log.skipped).toEqual([
      'm.jsonl line 2: not valid JSON (a torn record, 18 characters); skipped.',
      `m.jsonl line 3: not valid JSON (a torn record, ${11 + step(5, 1.5, 3).length} characters); skipped.`,
      'm.jsonl line 5: not valid JSON (a torn record, 5 characters); skipped.',
    ]);
    expect(parseMetricsLog(step(1, 2, 3)).skipped).toBeUndefined();
  });

  it('names the file and line of a bad record', () => {
    expect(() => parseMetricsLog('[1,2]')).toThrow(/metrics\.jsonl line 1: expected a JSON object/);
    expect(() => parseMetricsLog(line({ kind: 'step', step: 1, loss: 2 }))).toThrow(/line 1: "lr" must be a finite number, got nothing/);
    expect(() => parseMetricsLog(line({ kind: 'eval', step: 1, train: 2, val: 'x' }))).toThrow(/"val" must be a finite number, got "x"/);
  });
});

describe('lossPlotSvg', () => {
  // Steps 0..2000 every 500, lr warming up from 0 to 1e-3 then holding; evals at 1000 and 2000.
  const full = parseMetricsLog([
    step(0, 4.23, 0), step(500, 3, 5e-4), step(1000, 2, 1e-3), step(1500, 1.5, 1e-3), step(2000, 1.1, 1e-3),
    evalRec(1000, 2.1, 2.3), evalRec(2000, 1.2, 1.4),
  ].join('\n'));
  const svg = lossPlotSvg(full);

  it('draws ticks on both axes of both panels', () => {
    expect(texts(svg, 'tick x loss')).toEqual(['0', '500', '1000', '1500', '2000']);
    expect(texts(svg, 'tick x lr')).toEqual(['0', '500', '1000', '1500', '2000']);
    expect(texts(svg, 'tick y loss')).toEqual(['1', '2', '3', '4', '5']);
    // lr range [0, 1e-3] with about 4 intervals: 2.5e-4 → nice step 5e-4.
    expect(texts(svg, 'tick y lr')).toEqual(['0', '5e-4', '1e-3']);
    expect(texts(svg, 'axis-label')).toEqual(['loss (nats/token)', 'learning rate', 'step']);
  });

  it('draws the lr line at the right coordinates', () => {
    // Default layout: left = 10 + 6·12 = 82, width 720 − 82 − 20 = 618; loss panel y 44..324,
    // lr panel top = 324 + 2.5·12 + 18 = 372, height 110 → bottom 482.
    const lr = points(pathOf(svg, 'line lr') ?? '');
    expect(lr).toHaveLength(5);
    expect(lr[0]).toEqual([82, 482]); // step 0, lr 0: bottom left
    expect(lr[2]).toEqual([82 + 618 / 2, 372]); // step 1000, lr 1e-3: top, halfway across
    expect(lr[1][1]).toBe((372 + 482) / 2); // lr 5e-4: halfway up
  });

  it('draws per-step loss and both eval curves with a legend', () => {
    const loss = points(pathOf(svg, 'line loss') ?? '');
    // Step 0, loss 4.23 on the axis [1, 5] over y 44..324: y = 324 − (3.23/4)·280 = 97.9.
    expect(loss[0]).toEqual([82, 97.9]);
    expect(points(pathOf(svg, 'line val') ?? '')).toHaveLength(2);
    expect(points(pathOf(svg, 'line train') ?? '')).toHaveLength(2);
    expect(svg).toContain('>val loss (eval)</text>');
  });

  it('still plots a log without eval records', () => {
    const log: MetricsLog = { steps: full.steps, evals: [] };
    const s = lossPlotSvg(log);
    expect(pathOf(s, 'line loss')).toBeDefined();
    expect(pathOf(s, 'line lr')).toBeDefined();
    expect(s).not.toContain('class="line val"');
    expect(s).not.toContain('val loss (eval)');
  });

  it('plots evaluations alone and says the lr is unknown', () => {
    const s = lossPlotSvg({ steps: [], evals: full.evals });
    expect(pathOf(s, 'line lr')).toBeUndefined();
    expect(s).toContain('no step records: learning rate not logged');
    expect(texts(s, 'tick x loss')).toEqual(['1000', '1200', '1400', '1600', '1800', '2000']);
  });

  it('breaks the loss line at a diverged (null) step and marks a lone point', () => {
    const s = lossPlotSvg(parseMetricsLog([step(1, 3, 1e-3), step(2, 2.5, 1e-3), step(3, null, 1e-3), step(4, 2, 1e-3)].join('\n')));
    expect((pathOf(s, 'line loss') ?? '').match(/M/g)).toHaveLength(2);
    const one = lossPlotSvg(parseMetricsLog(step(7, 3, 1e-3)));
    expect(one).toMatch(/<circle cx="[\d.]+" cy="[\d.]+" r="2" fill="#9ecae1"\/>/);
  });

  it('rejects an empty log', () => {
    expect(() => lossPlotSvg({ steps: [], evals: [] })).toThrow(/no step or eval records/);
  });
});
