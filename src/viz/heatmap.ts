/**
 * Attention heatmaps as one SVG: a grid of panels, one row per layer and one column per head,
 * each panel the T×T matrix α[query][key] of that head (rows: the token doing the looking,
 * columns: the token looked at). Causal masking makes every panel lower-triangular.
 */
import { attentionColor, colorLegend, EXCLUDED_COLOR } from './colorScale.js';
import { el, escapeXml, num, svgDocument, text } from './svg.js';

/** Attention weights as plain numbers, indexed [layer][head][query][key]. */
export type AttentionMaps = ReadonlyArray<ReadonlyArray<ReadonlyArray<ArrayLike<number>>>>;

/** Options of {@link attentionHeatmapSvg}. */
export interface HeatmapOptions {
  /** Side of one cell in px; default fits a panel in about 200 px, between 10 and 24 px per cell (labels stay >= 10 px). */
  readonly cellSize?: number;
  /** Font size of titles and token labels in px (labels shrink to the cell size). Default 11. */
  readonly fontSize?: number;
  /** Heading line above the grid. Default "Attention weights". */
  readonly title?: string;
  /** Prefix for ids inside the SVG; give each SVG inlined in one page its own. Default "attn". */
  readonly idPrefix?: string;
  /** Add a hover tooltip (<title>) to every cell naming query, key and weight; files grow ~2x. Default false. */
  readonly tooltips?: boolean;
  /** Longest token label in characters before it is cut with "…". Default 12. */
  readonly maxLabelChars?: number;
  /** The model's layer number of each drawn layer, for titles (when only some are drawn). Default 0, 1, ... */
  readonly layerIndices?: readonly number[];
  /** The model's head number of each drawn head, for titles. Default 0, 1, ... */
  readonly headIndices?: readonly number[];
  /**
   * Leave key 0 (the first, "sink" token, which often takes most of the weight) out of the
   * colour scale: the scale runs to the largest other weight and key-0 cells are drawn grey. Default false.
   */
  readonly excludeFirst?: boolean;
}

/** The top of the colour scale: 1, or with excludeFirst the largest weight on a key other than 0. */
export function scaleMax(rows: Iterable<ArrayLike<number>>, excludeFirst: boolean): number {
  if (!excludeFirst) return 1;
  let max = 0;
  for (const row of rows) for (let k = 1; k < row.length; k++) if (Number(row[k]) > max) max = Number(row[k]);
  return max > 0 ? max : 1;
}

/** At about 80 bytes a cell, a million cells is an 80 MB file: past that, drawing stops being useful. */
export const MAX_HEATMAP_CELLS = 1_000_000;

/** Stand-ins that make invisible characters readable in labels. */
const VISIBLE: Readonly<Record<string, string>> = { ' ': '␣', '\n': '↵', '\t': '⇥', '\r': '␍' };

/**
 * A token as a one-line label: whitespace shown as ␣ ↵ ⇥ ␍, other control characters as
 * \xNN, and long tokens cut to `max` characters (code points) ending in "…". Not yet escaped.
 */
export function tokenLabel(token: string, max = 12): string {
  const chars = [...token].map((c) => {
    const cp = c.codePointAt(0) ?? 0;
    if (VISIBLE[c] !== undefined) return VISIBLE[c];
    return cp < 0x20 || cp === 0x7f ? `\\x${cp.toString(16).padStart(2, '0')}` : c;
  });
  if (chars.length === 0) return '∅';
  return chars.length > max ? `${chars.slice(0, Math.max(1, max - 1)).join('')}…` : chars.join('');
}

/** Checks the maps are a full [L][H][T][T] block matching the tokens; returns [L, H, T]. */
function checkShape(maps: AttentionMaps, tokens: readonly string[]): [number, number, number] {
  if (tokens == null || typeof tokens.length !== 'number' || tokens.length === 0) {
    throw new Error('attentionHeatmapSvg: tokens must be a non-empty array of strings, one per query/key position.');
  }
  if (maps == null || typeof maps.length !== 'number' || maps.length === 0) {
    throw new Error('attentionHeatmapSvg: attention must hold at least one layer, indexed [layer][head][query][key].');
  }
  const t = tokens.length;
  const heads = maps[0]?.length ?? 0;
  if (heads === 0) throw new Error('attentionHeatmapSvg: layer 0 has no heads; expect [layer][head][query][key].');
  maps.forEach((layer, l) => {
    if (layer.length !== heads) {
      throw new Error(`attentionHeatmapSvg: layer ${l} has ${layer.length} heads but layer 0 has ${heads}; every layer needs the same number.`);
    }
    layer.forEach((head, h) => {
      if (head.length !== t || head.some((row) => row.length !== t)) {
        throw new Error(
          `attentionHeatmapSvg: layer ${l} head ${h} is not ${t}×${t} (one row and column per token); ` +
            'pass the tokens of the same sequence the attention was computed on.',
        );
      }
    });
  });
  return [maps.length, heads, t];
}

/**
 * Draws every layer's and head's attention as a grid of heatmaps with token labels on both
 * axes (queries down the left, keys along the bottom) and a colour legend for 0..1. Each cell
 * is one `<rect class="cell">`, row-major within its panel, panels ordered layer then head.
 */
export function attentionHeatmapSvg(maps: AttentionMaps, tokens: readonly string[], options: HeatmapOptions = {}): string {
  const [nLayer, nHead, t] = checkShape(maps, tokens);
  if (nLayer * nHead * t * t > MAX_HEATMAP_CELLS) {
    throw new Error(
      `attentionHeatmapSvg: ${nLayer} layers × ${nHead} heads × ${t}² tokens is ${nLayer * nHead * t * t} cells, more than ${MAX_HEATMAP_CELLS}; ` +
        `use at most ${Math.floor(Math.sqrt(MAX_HEATMAP_CELLS / (nLayer * nHead)))} tokens.`,
    );
  }
  const cell = options.cellSize ?? Math.min(24, Math.max(10, Math.round(200 / t)));
  if (!(cell > 0 && Number.isFinite(cell))) throw new Error(`attentionHeatmapSvg: cellSize must be a positive number, got ${String(cell)}.`);
  const font = options.fontSize ?? 11;
  const labelFont = Math.min(font, cell);
  const prefix = options.idPrefix ?? 'attn';
  const labels = tokens.map((tok) => tokenLabel(tok, options.maxLabelChars ?? 12));
  // Sans-serif glyphs average about 0.6 em wide; this sizes the label gutters.
  const longest = Math.max(...labels.map((s) => [...s].length));
  const labelWidth = longest * labelFont * 0.62 + 8;
  // Short labels (characters) fit upright under their column; longer ones are turned to read upwards.
  const uprightKeys = longest * labelFont * 0.62 <= cell * 1.2;
  const keyGutter = uprightKeys ? labelFont + 8 : labelWidth;

  const excludeFirst = options.excludeFirst === true;
  const max = excludeFirst ? scaleMax(maps.flatMap((layer) => layer.flatMap((head) => [...head])), true) : 1;
  const layerNo = (l: number): number => options.layerIndices?.[l] ?? l;
  const headNo = (h: number): number => options.headIndices?.[h] ?? h;
  const panel = t * cell;
  const gap = Math.max(12, font);
  const panelTitle = font + 6;
  const left = 10 + labelWidth;
  const top = 10 + font * 2.6;
  const gridW = nHead * panel + (nHead - 1) * gap;
  const gridH = nLayer * (panelTitle + panel) + (nLayer - 1) * gap;
  const legendX = left + gridW + 24;
  const subtitle = `rows: query token · columns: key token${excludeFirst ? ' · first key (grey) left out of the colour scale' : ''}`;
  const titleText = options.title ?? 'Attention weights';
  // Wide enough for the heading and its caption too (about 0.6 em a glyph), not only the grid.
  const width = Math.max(legendX + 12 + 40, 20 + [...titleText].length * font * 1.2 * 0.62, 20 + [...subtitle].length * font * 0.9 * 0.56);
  // Tall enough for five readable legend ticks even when the grid is tiny.
  const legendH = Math.max(80, Math.min(gridH - panelTitle, 200));
  const height = Math.max(top + gridH + keyGutter + 10, top + panelTitle + legendH + 20);

  const parts: string[] = [
    text({ x: 10, y: 10 + font, 'font-size': font * 1.2, 'font-weight': 'bold' }, titleText),
    text({ x: 10, y: 10 + font * 2.2, 'font-size': font * 0.9, fill: '#555555' }, subtitle),
  ];
  for (let l = 0; l < nLayer; l++) {
    const py = top + l * (panelTitle + panel + gap) + panelTitle;
    for (let h = 0; h < nHead; h++) {
      const px = left + h * (panel + gap);
      const cells: string[] = [];
      for (let q = 0; q < t; q++) {
        const row = maps[l][h][q];
        for (let k = 0; k < t; k++) {
          const w = Number(row[k]);
          const tip = options.tooltips
            ? el('title', {}, escapeXml(`L${layerNo(l)} H${headNo(h)}: ${labels[q]} → ${labels[k]} = ${w.toFixed(3)}`))
            : undefined;
          const fill = excludeFirst && k === 0 ? EXCLUDED_COLOR : attentionColor(w, max);
          cells.push(el('rect', { class: 'cell', x: px + k * cell, y: py + q * cell, width: cell, height: cell, fill }, tip));
        }
      }
      const frame = el('rect', { class: 'frame', x: px, y: py, width: panel, height: panel, fill: 'none', stroke: '#999999', 'stroke-width': 0.5 });
      const title = text({ class: 'panel-title', x: px, y: py - 5, 'font-size': font }, `layer ${layerNo(l)} · head ${headNo(h)}`);
      parts.push(el('g', { class: 'panel', 'data-layer': String(layerNo(l)), 'data-head': String(headNo(h)) }, title + cells.join('') + frame));
    }
    // Query labels once per layer row, right-aligned against the first panel.
    const qLabels = labels.map((s, q) =>
      text({ class: 'query-label', x: left - 4, y: py + (q + 0.5) * cell + labelFont * 0.35, 'font-size': labelFont, 'text-anchor': 'end' }, s),
    );
    parts.push(el('g', { class: 'query-labels' }, qLabels.join('')));
  }
  // Key labels once per head column, under the last layer.
  const bottom = top + gridH + 4;
  for (let h = 0; h < nHead; h++) {
    const px = left + h * (panel + gap);
    const kLabels = labels.map((s, k) => {
      if (uprightKeys) {
        return text({ class: 'key-label', x: px + (k + 0.5) * cell, y: bottom + labelFont, 'font-size': labelFont, 'text-anchor': 'middle' }, s);
      }
      const x = px + (k + 0.5) * cell + labelFont * 0.35;
      return text({ class: 'key-label', x, y: bottom, 'font-size': labelFont, 'text-anchor': 'end', transform: `rotate(-90 ${num(x)} ${num(bottom)})` }, s);
    });
    parts.push(el('g', { class: 'key-labels' }, kLabels.join('')));
  }
  parts.push(colorLegend({ x: legendX, y: top + panelTitle, width: 12, height: legendH, idPrefix: prefix, fontSize: font, max }));
  return svgDocument(width, height, parts.join(''), options.title ?? 'Attention weights');
}
