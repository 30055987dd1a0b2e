/**
 * The training curves of a metrics log as one SVG: an upper panel with the per-step training
 * loss and the periodic train/val evaluations, and a lower panel with the learning rate, both
 * against the optimizer step on a shared x axis.
 */
import { panelAxes, project, seriesPath, type PanelBox, type SeriesStyle } from './axes.js';
import type { MetricsLog } from './metricsLog.js';
import { el, svgDocument, text } from './svg.js';
import { niceScale } from './ticks.js';

/** Options of {@link lossPlotSvg}. */
export interface LossPlotOptions {
  /** Total width in px. Default 720. */
  readonly width?: number;
  /** Height of the loss panel's plotting area in px. Default 280. */
  readonly lossHeight?: number;
  /** Height of the learning-rate panel's plotting area in px. Default 110. */
  readonly lrHeight?: number;
  /** Font size in px. Default 12. */
  readonly fontSize?: number;
  /** Heading above the plot. Default "Training curves". */
  readonly title?: string;
}

/** Line styles; the per-step loss is light because it is noisy, evaluations are bold with markers. */
const STYLES: Readonly<Record<'loss' | 'train' | 'val' | 'lr', SeriesStyle & { readonly label: string }>> = {
  loss: { className: 'line loss', color: '#9ecae1', strokeWidth: 1, marker: 0, label: 'train loss (per step)' },
  train: { className: 'line train', color: '#1f77b4', strokeWidth: 2, marker: 3, label: 'train loss (eval)' },
  val: { className: 'line val', color: '#d62728', strokeWidth: 2, marker: 3, label: 'val loss (eval)' },
  lr: { className: 'line lr', color: '#2ca02c', strokeWidth: 1.5, marker: 0, label: 'learning rate' },
};

function finite(values: ReadonlyArray<number | null>): number[] {
  return values.filter((v): v is number => v !== null && Number.isFinite(v));
}

/** The legend of the loss panel: a short line and a label per series shown, top right. */
function legend(box: PanelBox, keys: ReadonlyArray<keyof typeof STYLES>, f: number): string {
  const rowH = f + 6;
  const w = 14 * f;
  const x = box.x + box.width - w - 8;
  const items = keys.map((k, i) => {
    const y = box.y + 10 + i * rowH + f / 2;
    const s = STYLES[k];
    return (
      el('line', { x1: x + 6, y1: y, x2: x + 26, y2: y, stroke: s.color, 'stroke-width': s.strokeWidth + 1 }) +
      text({ x: x + 32, y: y + f * 0.35, 'font-size': f }, s.label)
    );
  });
  const frame = el('rect', { class: 'legend-box', x, y: box.y + 6, width: w, height: keys.length * rowH + 6, fill: '#ffffff', 'fill-opacity': 0.85, stroke: '#cccccc' });
  return el('g', { class: 'legend' }, frame + items.join(''));
}

/**
 * Draws the log's curves. Needs at least one step or eval record; a log with steps only, or
 * evaluations only, draws what it has (the lr panel then says the rate is unknown).
 */
export function lossPlotSvg(log: MetricsLog, options: LossPlotOptions = {}): string {
  if (log == null || !Array.isArray(log.steps) || !Array.isArray(log.evals)) {
    throw new Error('lossPlotSvg: log must be { steps, evals }, as parseMetricsLog returns.');
  }
  const { steps, evals } = log;
  const losses = finite([...steps.map((p) => p.loss), ...evals.flatMap((p) => [p.train, p.val])]);
  if (steps.length + evals.length === 0) {
    throw new Error('lossPlotSvg: the log has no step or eval records; train for at least one step first.');
  }
  const f = options.fontSize ?? 12;
  const width = options.width ?? 720;
  const left = 10 + f * 6;
  const top = 20 + f * 2;
  const plotW = width - left - 20;
  const lossBox: PanelBox = { x: left, y: top, width: plotW, height: options.lossHeight ?? 280 };
  const lrBox: PanelBox = { x: left, y: lossBox.y + lossBox.height + 2.5 * f + 18, width: plotW, height: options.lrHeight ?? 110 };
  const height = lrBox.y + lrBox.height + 3.5 * f + 16;

  const xs = niceScale(Math.min(...steps.map((p) => p.step), ...evals.map((p) => p.step)), Math.max(...steps.map((p) => p.step), ...evals.map((p) => p.step)));
  const sx = project(xs, lossBox.x, lossBox.x + lossBox.width);
  // Without a single finite loss (all diverged) the axis still spans something readable.
  const ys = losses.length > 0 ? niceScale(Math.min(...losses), Math.max(...losses)) : niceScale(0, 1);
  const syLoss = project(ys, lossBox.y + lossBox.height, lossBox.y);
  const parts: string[] = [text({ x: left, y: 12 + f, 'font-size': f * 1.25, 'font-weight': 'bold' }, options.title ?? 'Training curves')];

  parts.push(panelAxes({ box: lossBox, xScale: xs, yScale: ys, yLabel: 'loss (nats/token)', fontSize: f, name: 'loss' }));
  const shown: Array<keyof typeof STYLES> = [];
  const series: Array<[keyof typeof STYLES, Array<readonly [number, number | null]>]> = [
    ['loss', steps.map((p) => [p.step, p.loss] as const)],
    ['train', evals.map((p) => [p.step, p.train] as const)],
    ['val', evals.map((p) => [p.step, p.val] as const)],
  ];
  for (const [key, points] of series) {
    const drawn = seriesPath(points, sx, syLoss, STYLES[key]);
    if (drawn !== '') {
      parts.push(drawn);
      shown.push(key);
    }
  }
  if (shown.length > 0) parts.push(legend(lossBox, shown, f));

  if (steps.length > 0) {
    const lrs = steps.map((p) => p.lr);
    const lrScale = niceScale(Math.min(0, ...lrs), Math.max(...lrs), 4);
    parts.push(panelAxes({ box: lrBox, xScale: xs, yScale: lrScale, yLabel: 'learning rate', xLabel: 'step', fontSize: f, name: 'lr' }));
    parts.push(seriesPath(steps.map((p) => [p.step, p.lr] as const), sx, project(lrScale, lrBox.y + lrBox.height, lrBox.y), STYLES.lr));
  } else {
    parts.push(panelAxes({ box: lrBox, xScale: xs, yScale: niceScale(0, 1, 1), yLabel: 'learning rate', xLabel: 'step', fontSize: f, name: 'lr' }));
    parts.push(text({ class: 'no-data', x: lrBox.x + lrBox.width / 2, y: lrBox.y + lrBox.height / 2, 'font-size': f, 'text-anchor': 'middle', fill: '#777777' }, 'no step records: learning rate not logged'));
  }
  return svgDocument(width, height, parts.join(''), options.title ?? 'Training curves');
}
