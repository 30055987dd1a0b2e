import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPT } from '../src/model/gpt.js';
import { attentionArrays, computeAttention } from '../src/viz/attentionData.js';
import { ATTENTION_STOPS, attentionColor, INVALID_COLOR } from '../src/viz/colorScale.js';
import { attentionHeatmapSvg, tokenLabel, type AttentionMaps } from '../src/viz/heatmap.js';
import { escapeXml, num } from '../src/viz/svg.js';
import { expectClose } from './helpers.js';

/** All matches of a capture group, in document order. */
function all(svg: string, re: RegExp): string[] {
  return [...svg.matchAll(re)].map((m) => m[1]);
}
const cellFills = (svg: string): string[] => all(svg, /<rect class="cell"[^>]* fill="(#[0-9a-f]{6})"/g);

/** A causal map whose row q spreads 1 evenly over keys 0..q: α[q][k] = 1/(q+1) for k ≤ q. */
function uniformCausal(t: number): number[][] {
  return Array.from({ length: t }, (_, q) => Array.from({ length: t }, (_, k) => (k <= q ? 1 / (q + 1) : 0)));
}

describe('svg helpers', () => {
  it('escapes the five XML specials and formats numbers compactly', () => {
    expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;');
    expect([num(1.005), num(-0.001), num(12), num(2.5)]).toEqual(['1', '0', '12', '2.5']);
    expect(() => num(Number.NaN)).toThrow(/finite number, got NaN/);
  });
});

describe('attention colour scale', () => {
  it('maps 0 and 1 to the ends of the scale and interpolates linearly between stops', () => {
    expect(attentionColor(0)).toBe('#ffffff');
    expect(attentionColor(1)).toBe('#08306b');
    expect(attentionColor(0.5)).toBe('#6baed6'); // exactly the middle stop
    // Halfway between the stops at 0 (#ffffff) and 0.25 (#c6dbef): (255+198)/2 = 226.5 → e3, (255+219)/2 = 237 → ed, (255+239)/2 = 247 → f7.
    expect(attentionColor(0.125)).toBe('#e3edf7');
    expect(attentionColor(-3)).toBe('#ffffff'); // clamped
    expect(attentionColor(7)).toBe('#08306b');
    expect(attentionColor(Number.NaN)).toBe(INVALID_COLOR);
    expect(ATTENTION_STOPS[0][1]).toBe(attentionColor(0));
  });
});

describe('tokenLabel', () => {
  it('shows whitespace and control characters and shortens long tokens', () => {
    expect(tokenLabel(' ')).toBe('␣');
    expect(tokenLabel('a\nb\t')).toBe('a↵b⇥');
    expect(tokenLabel('\u0001')).toBe('\\x01');
    expect(tokenLabel('')).toBe('∅');
    expect(tokenLabel('abcdefghijklmnop', 12)).toBe('abcdefghijk…'); // 11 characters + "…" = 12
    expect(tokenLabel('😀😀', 12)).toBe('😀😀'); // code points, not UTF-16 units
  });
});

describe('attentionHeatmapSvg', () => {
  const tokens = ['<', '&', 'b'];
  // 2 layers × 3 heads of 3×3 maps; head h of layer l is uniformCausal, except layer 1 head 2
  // which puts all weight on key 0 (a "first token" head).
  const firstToken = [[1, 0, 0], [1, 0, 0], [1, 0, 0]];
  const maps: AttentionMaps = [
    [uniformCausal(3), uniformCausal(3), uniformCausal(3)],
    [uniformCausal(3), uniformCausal(3), firstToken],
  ];
  const svg = attentionHeatmapSvg(maps, tokens);

  it('draws one panel per layer and head and one cell per query/key pair', () => {
    expect(all(svg, /<g class="panel" data-layer="(\d)"/g)).toEqual(['0', '0', '0', '1', '1', '1']);
    expect(cellFills(svg)).toHaveLength(2 * 3 * 3 * 3); // layers · heads · T · T = 54
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  });

  it('colours each cell by its weight, row-major within each panel', () => {
    const fills = cellFills(svg);
    // First panel: row 0 = [1, 0, 0], row 1 = [1/2, 1/2, 0], row 2 = [1/3, 1/3, 1/3].
    const third = attentionColor(1 / 3);
    expect(fills.slice(0, 9)).toEqual([
      '#08306b', '#ffffff', '#ffffff',
      '#6baed6', '#6baed6', '#ffffff',
      third, third, third,
    ]);
    // Last panel (layer 1, head 2): column 0 is 1, the rest 0.
    expect(fills.slice(45)).toEqual(Array.from({ length: 9 }, (_, i) => (i % 3 === 0 ? '#08306b' : '#ffffff')));
  });

  it('labels queries and keys with escaped tokens', () => {
    // Query labels per layer row (2 × 3), key labels per head column (3 × 3).
    expect(all(svg, /<text class="query-label"[^>]*>([^<]*)<\/text>/g)).toEqual(['&lt;', '&amp;', 'b', '&lt;', '&amp;', 'b']);
    expect(all(svg, /<text class="key-label"[^>]*>([^<]*)<\/text>/g)).toHaveLength(9);
    expect(svg).not.toMatch(/>[^<]*&(?!(amp|lt|gt|quot|#39);)/); // no bare ampersand in text
    expect(svg).not.toContain('><</text>');
  });

  it('has a legend bar from 0 (white, bottom) to 1 (dark, top)', () => {
    const stops = all(svg, /<stop offset="([\d.]+)" stop-color="#[0-9a-f]{6}"/g);
    expect(stops).toEqual(['0', '0.25', '0.5', '0.75', '1']);
    expect(svg).toContain('<stop offset="0" stop-color="#08306b"/>');
    expect(svg).toContain('<stop offset="1" stop-color="#ffffff"/>');
    expect(all(svg, /<text class="legend-tick"[^>]*>([^<]*)</g)).toEqual(['0', '0.25', '0.5', '0.75', '1']);
    expect(svg).toContain('fill="url(#attn-scale)"');
  });

  it('adds tooltips and honours idPrefix on request', () => {
    const withTips = attentionHeatmapSvg([[firstToken]], ['x', 'y', 'z'], { tooltips: true, idPrefix: 'p2' });
    expect(withTips).toContain('<title>L0 H0: y → x = 1.000</title>');
    expect(withTips).toContain('id="p2-scale"');
  });

  it('rejects maps that do not match the tokens', () => {
    expect(() => attentionHeatmapSvg(maps, ['a', 'b'])).toThrow(/layer 0 head 0 is not 2×2/);
    expect(() => attentionHeatmapSvg([], ['a'])).toThrow(/at least one layer/);
    expect(() => attentionHeatmapSvg([[uniformCausal(2)], []], ['a', 'b'])).toThrow(/layer 1 has 0 heads but layer 0 has 1/);
    expect(() => attentionHeatmapSvg(maps, [])).toThrow(/tokens must be a non-empty array/);
    // 4 layers × 4 heads × 251² = 1,008,016 cells > 10⁶; ⌊√(10⁶/16)⌋ = 250 tokens fit.
    const big = Array.from({ length: 251 }, () => new Float32Array(251));
    const heads = Array.from({ length: 4 }, () => big);
    expect(() => attentionHeatmapSvg([heads, heads, heads, heads], Array(251).fill('a'))).toThrow(/1008016 cells, more than 1000000; use at most 250 tokens/);
  });
});

describe('attention from a model', () => {
  // Built after test/setup.ts has selected the backend; freed at the end.
  let model: GPT;
  beforeAll(() => void (model = new GPT({ vocabSize: 11, nLayer: 2, nHead: 2, nEmbd: 8, blockSize: 6, seed: 3 })));
  afterAll(() => model.dispose());
  const ids = [1, 5, 2, 9];

  it('returns [layer][head][query][key] softmax rows, causal, and leaves no tensors', async () => {
    const before = tf.memory().numTensors;
    const { maps } = await computeAttention(model, ids);
    expect(tf.memory().numTensors).toBe(before);
    expect([maps.length, maps[0].length, maps[0][0].length, maps[0][0][0].length]).toEqual([2, 2, 4, 4]);
    for (const head of maps.flat()) {
      head.forEach((row, q) => {
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5); // softmax rows sum to 1
        expect(row.slice(q + 1).every((w) => w === 0)).toBe(true); // nothing after the query
      });
      expect(head[0][0]).toBeCloseTo(1, 6); // the first token can only attend to itself
    }
  });

  it('matches forwardWithAttention and forward(ids, { returnAttention: true })', async () => {
    const input = tf.tensor2d([ids], [1, 4], 'int32'); // (1, T)
    const before = tf.memory().numTensors;
    const a = model.forwardWithAttention(input); // (1, T, V), 2 × (1, nh, T, T)
    const b = model.forward(input, { returnAttention: true }); // the same, through the overload
    const plain = model.forward(input); // (1, T, V)
    expect(b.attention).toHaveLength(2);
    expectClose(b.logits.dataSync(), plain.dataSync(), 1e-6);
    const fromTensors = await attentionArrays(a.attention);
    const { maps } = await computeAttention(model, ids);
    expectClose(fromTensors.flat(3), maps.flat(3), 1e-6);
    expectClose((await attentionArrays(b.attention)).flat(3), maps.flat(3), 1e-6);
    for (const t of [a.logits, b.logits, plain, ...a.attention, ...b.attention]) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
  });

  it('rejects empty, too long and out-of-vocabulary ids', async () => {
    await expect(computeAttention(model, [])).rejects.toThrow(/ids is empty/);
    await expect(computeAttention(model, [1, 2, 3, 4, 5, 6, 7])).rejects.toThrow(/7 tokens exceed the model's context of 6/);
    await expect(computeAttention(model, [1, 11])).rejects.toThrow(/token id 11 is not an integer in \[0, 11\)/);
  });
});
