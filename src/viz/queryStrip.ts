/**
 * One query token's attention over the tokens before it, as in the lecture's figure 8.2 (the
 * word "it" and how strongly each head looks back at each earlier word): one labelled strip
 * per chosen layer/head, each token a box shaded by its weight, with the weight under it.
 * Labels keep one legible font size at any length: a long text wraps onto more rows instead of
 * shrinking, so the SVG grows with the number of boxes drawn and nothing else.
 */
import { attentionColor, colorLegend, EXCLUDED_COLOR } from './colorScale.js';
import { scaleMax, tokenLabel } from './heatmap.js';
import { el, svgDocument, text } from './svg.js';

/** One head's weights for the query: α[query][k] for keys k = 0 … query. */
export interface QueryStrip {
  /** The model's layer number. */
  readonly layer: number;
  /** The head number within the layer. */
  readonly head: number;
  /** Weights over keys 0 … query (later keys, masked, may follow and are ignored). */
  readonly weights: ArrayLike<number>;
}

/** Options of {@link attentionStripSvg}. */
export interface StripOptions {
  /** Font size of token labels in px; every label uses it, whatever the length. Default 13. */
  readonly fontSize?: number;
  /** Width in px at which a strip wraps onto a new row. Default 760. */
  readonly maxWidth?: number;
  /** Heading above the strips. Default: names the query token. */
  readonly title?: string;
  /** Longest label in characters before it is cut with "…". Default 20. */
  readonly maxLabelChars?: number;
  /** Leave key 0 (the "sink" token) out of the colour scale; it is drawn grey with its weight. Default false. */
  readonly excludeFirst?: boolean;
  /** Prefix for ids inside the SVG (one per SVG inlined in a page). Default "strip". */
  readonly idPrefix?: string;
}

/**
 * Resolves --query: an index (negative counts from the end: -1 is the last token), a token's
 * text, or a word spread over several tokens (its last token is the query, having read all of
 * it). Text matches pick the last occurrence; surrounding spaces are ignored as a fallback.
 */
export function findQuery(spec: string, tokens: readonly string[]): number {
  const t = tokens.length;
  if (/^-?\d+$/.test(spec.trim())) {
    const i = Number(spec.trim());
    const at = i < 0 ? t + i : i;
    if (at < 0 || at >= t) throw new Error(`--query ${spec} is outside the ${t} tokens; use an index in 0..${t - 1} (or -1 for the last).`);
    return at;
  }
  for (const trimmed of [false, true]) {
    const want = trimmed ? spec.trim() : spec;
    if (want.length === 0) continue;
    for (let end = t - 1; end >= 0; end--) {
      let s = '';
      for (let i = end; i >= 0 && s.length < want.length; i--) s = tokens[i] + s;
      if ((trimmed ? s.trim() : s) === want) return end;
    }
  }
  const shown = tokens.slice(0, 40).map((x) => JSON.stringify(x)).join(' ');
  throw new Error(`--query "${spec}" matches no token of the text (${shown}${t > 40 ? ' …' : ''}); give a token, a word or an index 0..${t - 1}.`);
}

/** Draws the strips; see the module comment. `query` indexes `tokens`. */
export function attentionStripSvg(strips: readonly QueryStrip[], tokens: readonly string[], query: number, options: StripOptions = {}): string {
  if (!Number.isInteger(query) || query < 0 || query >= tokens.length) {
    throw new Error(`attentionStripSvg: query ${String(query)} is not a token index in 0..${tokens.length - 1}.`);
  }
  if (strips.length === 0) throw new Error('attentionStripSvg: no strips to draw; choose at least one layer and head.');
  for (const s of strips) {
    if (s.weights.length <= query) {
      throw new Error(`attentionStripSvg: layer ${s.layer} head ${s.head} has ${s.weights.length} weights; need one per key 0..${query}.`);
    }
  }
  const font = options.fontSize ?? 13;
  const maxWidth = options.maxWidth ?? 760;
  const excludeFirst = options.excludeFirst === true;
  const labels = tokens.slice(0, query + 1).map((tok) => tokenLabel(tok, options.maxLabelChars ?? 20));
  // Sans-serif glyphs average about 0.62 em; every box fits its label and its weight "0.00".
  const widths = labels.map((s) => Math.max([...s].length * font * 0.62, 4 * font * 0.5) + 10);
  const boxH = font * 1.8;
  const rowH = boxH + font * 1.3;
  const left = 10;
  // Wrap: the same x positions for every strip, so a key sits in the same place in each.
  const pos: Array<{ x: number; row: number }> = [];
  let x = left;
  let row = 0;
  widths.forEach((w) => {
    if (x + w > left + maxWidth && x > left) [x, row] = [left, row + 1];
    pos.push({ x, row });
    x += w + 3;
  });
  const rows = row + 1;
  const stripH = font * 1.6 + rows * rowH + 8;
  const top = 10 + font * 3;
  const max = scaleMax(strips.map((s) => Array.from({ length: query + 1 }, (_, k) => Number(s.weights[k]))), excludeFirst);
  const contentW = Math.max(...pos.map((p, k) => p.x + widths[k]));
  const legendX = contentW + 24;
  const queryText = tokenLabel(tokens[query], options.maxLabelChars ?? 20);
  const heading = options.title ?? `Attention of "${queryText}" (token ${query}) over the tokens before it`;
  const caption = `one strip per head · shade and number: attention weight${excludeFirst ? ' · first token (grey) left out of the colour scale' : ''}`;
  // Wide enough for the heading and caption as well as the boxes (about 0.6 em a glyph).
  const width = Math.max(legendX + 60, 20 + [...heading].length * font * 1.2 * 0.62, 20 + [...caption].length * font * 0.9 * 0.56);
  const legendH = Math.max(80, Math.min(200, strips.length * stripH - 20));
  const height = Math.max(top + strips.length * stripH, top + legendH + 30);

  const parts: string[] = [
    text({ x: 10, y: 10 + font * 1.1, 'font-size': font * 1.2, 'font-weight': 'bold' }, heading),
    text({ x: 10, y: 10 + font * 2.3, 'font-size': font * 0.9, fill: '#555555' }, caption),
  ];
  strips.forEach((s, i) => {
    const y0 = top + i * stripH;
    const title = text({ class: 'strip-title', x: left, y: y0 + font, 'font-size': font, 'font-weight': 'bold' }, `layer ${s.layer} · head ${s.head}`);
    // Shared attributes sit on three groups (boxes, labels, weights), so each box costs ~200 bytes.
    const boxes: string[] = [];
    const names: string[] = [];
    const values: string[] = [];
    for (let k = 0; k <= query; k++) {
      const w = Number(s.weights[k]);
      const { x: bx, row: r } = pos[k];
      const by = y0 + font * 1.6 + r * rowH;
      const cx = bx + widths[k] / 2;
      const grey = excludeFirst && k === 0;
      const fill = grey ? EXCLUDED_COLOR : attentionColor(w, max);
      const isQuery = k === query;
      boxes.push(el('rect', {
        class: isQuery ? 'cell query' : 'cell', 'data-key': String(k), x: bx, y: by, width: widths[k], height: boxH, fill,
        ...(isQuery ? { stroke: '#d62728', 'stroke-width': 2 } : {}),
      }));
      // White text on the darker half of the scale.
      const dark = !grey && Math.min(1, w / max) > 0.55;
      names.push(text({ class: 'token-label', x: cx, y: by + boxH * 0.66, fill: dark ? '#ffffff' : undefined }, labels[k]));
      values.push(text({ class: 'weight', x: cx, y: by + boxH + font * 0.95 }, w.toFixed(2)));
    }
    const body =
      title +
      el('g', { stroke: '#999999', 'stroke-width': 0.5 }, boxes.join('')) +
      el('g', { class: 'token-labels', 'font-size': font, 'text-anchor': 'middle', fill: '#111111' }, names.join('')) +
      el('g', { class: 'weights', 'font-size': font * 0.75, 'text-anchor': 'middle', fill: '#555555' }, values.join(''));
    parts.push(el('g', { class: 'strip', 'data-layer': String(s.layer), 'data-head': String(s.head) }, body));
  });
  parts.push(colorLegend({ x: legendX, y: top + font * 1.6, width: 12, height: legendH, idPrefix: options.idPrefix ?? 'strip', fontSize: font * 0.85, max }));
  return svgDocument(width, height, parts.join(''), options.title ?? `Attention of token ${query}`);
}
