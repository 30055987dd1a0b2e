/**
 * The colour scale of attention weights: a sequential white → blue ramp over [0, 1], so a
 * weight of 0 (including every masked future position) is the page colour and the strongest
 * attention is the darkest cell.
 */
import { el, num, text } from './svg.js';

/** Scale stops as [position in 0..1, '#rrggbb']; colours between stops are linear in RGB. */
export const ATTENTION_STOPS: ReadonlyArray<readonly [number, string]> = [
  [0, '#ffffff'],
  [0.25, '#c6dbef'],
  [0.5, '#6baed6'],
  [0.75, '#2171b5'],
  [1, '#08306b'],
];

/** The colour of values that are not numbers (NaN), so broken weights stand out instead of hiding as 0. */
export const INVALID_COLOR = '#ff00ff';

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function hex(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** The fill of a weight left out of the colour scale (the first, "sink" token with excludeFirst). */
export const EXCLUDED_COLOR = '#e0e0e0';

/**
 * The fill colour of weight v on a scale from 0 to `max` (default 1): piecewise-linear
 * interpolation between {@link ATTENTION_STOPS} at x = v / max,
 * c = c_i + (x − p_i)/(p_{i+1} − p_i)·(c_{i+1} − c_i). Values outside the scale are clamped.
 */
export function attentionColor(v: number, max = 1): string {
  if (Number.isNaN(v)) return INVALID_COLOR;
  const x = Math.min(1, Math.max(0, max > 0 ? v / max : v));
  for (let i = 1; i < ATTENTION_STOPS.length; i++) {
    const [p1, c1] = ATTENTION_STOPS[i];
    if (x > p1 && i < ATTENTION_STOPS.length - 1) continue;
    const [p0, c0] = ATTENTION_STOPS[i - 1];
    const f = (x - p0) / (p1 - p0);
    const a = rgb(c0);
    const b = rgb(c1);
    return hex(a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2]));
  }
  return ATTENTION_STOPS[ATTENTION_STOPS.length - 1][1];
}

/** Where and how big the legend is drawn. */
export interface LegendBox {
  /** Left edge of the bar, in px. */
  readonly x: number;
  /** Top edge of the bar (the value 1), in px. */
  readonly y: number;
  /** Bar width in px. */
  readonly width: number;
  /** Bar height in px; the value 0 sits at y + height. */
  readonly height: number;
  /** Prefix of the gradient's id, unique per SVG when several are inlined in one page. */
  readonly idPrefix: string;
  /** Font size of the tick labels, in px. */
  readonly fontSize: number;
  /** The weight at the top of the bar. Default 1. */
  readonly max?: number;
}

/** A tick label: at most 3 significant digits, no trailing zeros. */
function tickText(v: number): string {
  return String(Number(v.toPrecision(3)));
}

/** A vertical colour bar 0..max (max at the top) with ticks at 0, max/4, ..., max and a caption. */
export function colorLegend(box: LegendBox): string {
  const id = `${box.idPrefix}-scale`;
  // SVG gradients run top to bottom here (y1 = 0 → y2 = 1), so the stop at the top is value 1.
  const stops = ATTENTION_STOPS.map(([p, c]) => el('stop', { offset: num(1 - p), 'stop-color': c }))
    .reverse()
    .join('');
  const gradient = el('defs', {}, el('linearGradient', { id, x1: 0, y1: 0, x2: 0, y2: 1 }, stops));
  const bar = el('rect', {
    class: 'legend-bar', x: box.x, y: box.y, width: box.width, height: box.height,
    fill: `url(#${id})`, stroke: '#999999', 'stroke-width': 0.5,
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((v) => {
    const ty = box.y + (1 - v) * box.height;
    return (
      el('line', { x1: box.x + box.width, y1: ty, x2: box.x + box.width + 4, y2: ty, stroke: '#555555' }) +
      text({ class: 'legend-tick', x: box.x + box.width + 6, y: ty + box.fontSize * 0.35, 'font-size': box.fontSize }, tickText(v * (box.max ?? 1)))
    );
  });
  const caption = text({ x: box.x, y: box.y - box.fontSize, 'font-size': box.fontSize }, 'weight');
  return el('g', { class: 'legend' }, gradient + bar + ticks.join('') + caption);
}
