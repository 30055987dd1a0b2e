/**
 * Plot panels for line charts: linear scales, a frame with ticks, grid lines and labels, and
 * polylines that break at missing values.
 */
import { el, num, text } from './svg.js';
import { formatTick, type NiceScale } from './ticks.js';

/** A rectangle in px: the inner plotting area of one panel. */
export interface PanelBox {
  /** Left edge in px. */
  readonly x: number;
  /** Top edge in px. */
  readonly y: number;
  /** Width in px. */
  readonly width: number;
  /** Height in px. */
  readonly height: number;
}

/** Maps a value on a nice scale to a px position: p = p0 + (v − min)/(max − min)·(p1 − p0). */
export function project(scale: NiceScale, p0: number, p1: number): (v: number) => number {
  const span = scale.max - scale.min;
  return (v) => p0 + ((v - scale.min) / span) * (p1 - p0);
}

/** What {@link panelAxes} draws. */
export interface AxesSpec {
  /** The plotting area; ticks and labels go outside it. */
  readonly box: PanelBox;
  /** Horizontal axis: range and tick values. */
  readonly xScale: NiceScale;
  /** Vertical axis: range and tick values (min at the bottom). */
  readonly yScale: NiceScale;
  /** Caption of the y axis, drawn rotated on the left. */
  readonly yLabel: string;
  /** Caption under the x axis; omitted when undefined. */
  readonly xLabel?: string;
  /** Font size in px. */
  readonly fontSize: number;
  /** Name of the panel, used in the axis class names (e.g. "loss" gives class "tick y loss"). */
  readonly name: string;
}

/** Frame, horizontal grid lines, tick marks and labels on both axes of one panel. */
export function panelAxes(s: AxesSpec): string {
  const { box, fontSize: f } = s;
  const sx = project(s.xScale, box.x, box.x + box.width);
  const sy = project(s.yScale, box.y + box.height, box.y);
  const bottom = box.y + box.height;
  const parts: string[] = [];
  for (const v of s.yScale.ticks) {
    const y = sy(v);
    parts.push(
      el('line', { class: 'grid', x1: box.x, y1: y, x2: box.x + box.width, y2: y, stroke: '#e5e5e5' }),
      el('line', { x1: box.x - 4, y1: y, x2: box.x, y2: y, stroke: '#333333' }),
      text({ class: `tick y ${s.name}`, x: box.x - 6, y: y + f * 0.35, 'font-size': f, 'text-anchor': 'end' }, formatTick(v, s.yScale.step)),
    );
  }
  for (const v of s.xScale.ticks) {
    const x = sx(v);
    parts.push(
      el('line', { x1: x, y1: bottom, x2: x, y2: bottom + 4, stroke: '#333333' }),
      text({ class: `tick x ${s.name}`, x, y: bottom + 6 + f, 'font-size': f, 'text-anchor': 'middle' }, formatTick(v, s.xScale.step)),
    );
  }
  parts.push(el('rect', { class: 'frame', x: box.x, y: box.y, width: box.width, height: box.height, fill: 'none', stroke: '#333333' }));
  const ly = box.y + box.height / 2;
  const lx = box.x - 8 - f * 4;
  parts.push(text({ class: 'axis-label', x: lx, y: ly, 'font-size': f, 'text-anchor': 'middle', transform: `rotate(-90 ${num(lx)} ${num(ly)})` }, s.yLabel));
  if (s.xLabel !== undefined) {
    parts.push(text({ class: 'axis-label', x: box.x + box.width / 2, y: bottom + 10 + 2.2 * f, 'font-size': f, 'text-anchor': 'middle' }, s.xLabel));
  }
  return el('g', { class: `axes ${s.name}` }, parts.join(''));
}

/** Style of one line series. */
export interface SeriesStyle {
  /** Class names of the path, e.g. "line val". */
  readonly className: string;
  /** Stroke and marker colour, '#rrggbb'. */
  readonly color: string;
  /** Line width in px. */
  readonly strokeWidth: number;
  /** Radius of a circle drawn at every point; 0 draws none. */
  readonly marker: number;
}

/**
 * A path through the points in order; a null y ends the current segment (a gap), so a
 * diverged stretch is not bridged by a straight line. Returns '' when no point has a value.
 */
export function seriesPath(
  points: ReadonlyArray<readonly [number, number | null]>,
  sx: (v: number) => number,
  sy: (v: number) => number,
  style: SeriesStyle,
): string {
  let d = '';
  let pen = false;
  const markers: string[] = [];
  for (const [x, y] of points) {
    if (y === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${num(sx(x))} ${num(sy(y))}`;
    pen = true;
    if (style.marker > 0) markers.push(el('circle', { cx: sx(x), cy: sy(y), r: style.marker, fill: style.color }));
  }
  if (d === '') return '';
  // A lone point draws nothing as a path; mark it so a one-record log still shows its value.
  if (!d.includes('L') && markers.length === 0) {
    const [x, y] = points.find((p) => p[1] !== null) as readonly [number, number];
    markers.push(el('circle', { cx: sx(x), cy: sy(y), r: style.strokeWidth * 2, fill: style.color }));
  }
  const path = el('path', { class: style.className, d, fill: 'none', stroke: style.color, 'stroke-width': style.strokeWidth, 'stroke-linejoin': 'round' });
  return path + markers.join('');
}
