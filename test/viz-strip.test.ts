/**
 * Figure 8.2: one query's attention over the earlier tokens, one strip per head; the query
 * lookup; the first-token exclusion from the colour scale (strips and heatmaps).
 */
import { describe, expect, it } from 'vitest';
import { attentionColor, EXCLUDED_COLOR } from '../src/viz/colorScale.js';
import { attentionHeatmapSvg } from '../src/viz/heatmap.js';
import { attentionStripSvg, findQuery } from '../src/viz/queryStrip.js';

const all = (s: string, re: RegExp): string[] => [...s.matchAll(re)].map((m) => m[1]);
const fills = (svg: string): string[] => all(svg, /<rect class="cell[^"]*" data-key="\d+"[^>]*fill="(#[0-9a-f]{6})"/g);
const tokens = ['The', ' animal', ' didn', "'t", ' cross', ' because', ' it', ' was'];

describe('findQuery', () => {
  it('takes an index, a negative index, a token, a word over several tokens, last occurrence first', () => {
    expect(findQuery('3', tokens)).toBe(3);
    expect(findQuery('-1', tokens)).toBe(7);
    expect(findQuery(' it', tokens)).toBe(6);
    expect(findQuery('it', tokens)).toBe(6); // spaces around a token are ignored as a fallback
    expect(findQuery("didn't", tokens)).toBe(3); // " didn" + "'t": the word's last token
    expect(findQuery('t', ['t', 'o', 't'])).toBe(2);
    expect(findQuery('it', ['i', 't', ' ', 'i', 't', 's'])).toBe(4); // a char model: "i" "t"
  });

  it('names the problem and the fix for an unknown token or an index out of range', () => {
    expect(() => findQuery('dog', tokens)).toThrow(/--query "dog" matches no token of the text \("The" " animal".*give a token, a word or an index 0\.\.7/);
    expect(() => findQuery('8', tokens)).toThrow(/--query 8 is outside the 8 tokens; use an index in 0\.\.7/);
    expect(() => findQuery('-9', tokens)).toThrow(/outside the 8 tokens/);
  });
});

describe('attentionStripSvg', () => {
  // Query 6 (" it"): head A puts 0.5 on "The" and 0.25 on " animal" and on " it" itself;
  // head B is uniform over the 7 keys 0..6. Key 7 is masked (0) and is not drawn.
  const a = [0.5, 0.25, 0, 0, 0, 0, 0.25, 0];
  const b = [...Array(7).fill(1 / 7), 0];
  const strips = [{ layer: 1, head: 0, weights: a }, { layer: 1, head: 3, weights: b }];

  it('draws one labelled strip per head with one box per key 0..query, shaded by weight', () => {
    const svg = attentionStripSvg(strips, tokens, 6);
    expect(all(svg, /<g class="strip" data-layer="(\d)" data-head="\d"/g)).toEqual(['1', '1']);
    expect(all(svg, /<text class="strip-title"[^>]*>([^<]*)</g)).toEqual(['layer 1 · head 0', 'layer 1 · head 3']);
    expect(fills(svg)).toEqual([...a.slice(0, 7), ...b.slice(0, 7)].map((w) => attentionColor(w)));
    expect(all(svg, /<text class="weight"[^>]*>([^<]*)</g).slice(0, 7)).toEqual(['0.50', '0.25', '0.00', '0.00', '0.00', '0.00', '0.25']);
    // Labels show spaces as ␣; the query box is outlined; the title names the query.
    expect(all(svg, /<text class="token-label"[^>]*>([^<]*)</g).slice(0, 7)).toEqual(['The', '␣animal', '␣didn', '&#39;t', '␣cross', '␣because', '␣it']);
    expect(svg.match(/class="cell query"/g)).toHaveLength(2);
    expect(svg).toContain('Attention of &quot;␣it&quot; (token 6) over the tokens before it');
  });

  it('with excludeFirst draws key 0 grey and scales the colours to the largest other weight', () => {
    const svg = attentionStripSvg(strips, tokens, 6, { excludeFirst: true });
    const f = fills(svg);
    // The largest weight on keys 1..6 over both strips is 0.25: it gets the darkest colour.
    expect(f[0]).toBe(EXCLUDED_COLOR);
    expect(f[1]).toBe(attentionColor(1));
    expect(f[8]).toBe(attentionColor((1 / 7) / 0.25)); // head B, key 1: (1/7) / 0.25 = 0.571 of the scale
    expect(all(svg, /<text class="legend-tick"[^>]*>([^<]*)</g)).toEqual(['0', '0.0625', '0.125', '0.188', '0.25']);
  });

  it('keeps one label size at any length by wrapping, so the file grows with the boxes drawn', () => {
    const long = Array.from({ length: 200 }, (_, i) => ` word${i}`);
    const w = Array(200).fill(1 / 200);
    const one = attentionStripSvg([{ layer: 0, head: 0, weights: w }], long, 199);
    const four = attentionStripSvg([0, 1, 2, 3].map((h) => ({ layer: 0, head: h, weights: w })), long, 199);
    // Every label is drawn at the one 13 px size set on its group (no per-label shrinking).
    expect(all(one, /<g class="token-labels" font-size="([\d.]+)"/g)).toEqual(['13']);
    expect(one).not.toMatch(/class="token-label"[^>]*font-size/);
    const width = Number(one.match(/^<svg[^>]* width="([\d.]+)"/)?.[1]);
    expect(width).toBeLessThan(900); // 760 px of boxes + the legend, however many tokens
    const xs = all(one, /<rect class="cell[^"]*" data-key="\d+" x="([\d.]+)"/g).map(Number);
    expect(Math.max(...xs)).toBeLessThan(770);
    // Four strips cost about four times one (the header and legend are shared), ~250 bytes a box.
    expect(four.length / one.length).toBeGreaterThan(3.5);
    expect(four.length / one.length).toBeLessThan(4.1);
    expect(one.length / 200).toBeLessThan(250);
  });

  it('rejects a query out of range, no strips and too few weights', () => {
    expect(() => attentionStripSvg(strips, tokens, 8)).toThrow(/query 8 is not a token index in 0\.\.7/);
    expect(() => attentionStripSvg([], tokens, 2)).toThrow(/no strips to draw/);
    expect(() => attentionStripSvg([{ layer: 0, head: 0, weights: [1, 0] }], tokens, 2)).toThrow(/layer 0 head 0 has 2 weights; need one per key 0\.\.2/);
  });
});

describe('attentionHeatmapSvg: chosen heads and excludeFirst', () => {
  const map = [[1, 0, 0], [0.8, 0.2, 0], [0.6, 0.1, 0.3]];
  it('titles panels with the model\'s layer and head numbers', () => {
    const svg = attentionHeatmapSvg([[map]], ['a', 'b', 'c'], { layerIndices: [3], headIndices: [2] });
    expect(svg).toContain('<g class="panel" data-layer="3" data-head="2">');
    expect(svg).toContain('>layer 3 · head 2</text>');
  });

  it('greys column 0 and scales to the largest weight elsewhere (0.3)', () => {
    const svg = attentionHeatmapSvg([[map]], ['a', 'b', 'c'], { excludeFirst: true });
    const f = all(svg, /<rect class="cell"[^>]*fill="(#[0-9a-f]{6})"/g);
    expect(f).toEqual([
      EXCLUDED_COLOR, attentionColor(0), attentionColor(0),
      EXCLUDED_COLOR, attentionColor(0.2 / 0.3), attentionColor(0),
      EXCLUDED_COLOR, attentionColor(0.1 / 0.3), attentionColor(1),
    ]);
  });
});
