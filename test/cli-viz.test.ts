import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliHarness } from './cliHarness.js';
import { saveCheckpoint } from '../src/io/checkpoint.js';
import { GPT } from '../src/model/gpt.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { computeAttention, type AttentionSource } from '../src/viz/attentionData.js';
import { attentionColor, EXCLUDED_COLOR } from '../src/viz/colorScale.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-cli-viz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const backend = process.env.TINYGPT_BACKEND ?? 'cpu';

const cli = cliHarness();
const run = cli.run;

const cells = (svg: string): number => svg.match(/<rect class="cell"/g)?.length ?? 0;

describe('tinygpt plot', () => {
  const log = join(scratch, 'metrics.jsonl');
  writeFileSync(log, [
    { kind: 'step', step: 10, loss: 4, lr: 1e-4 },
    { kind: 'eval', step: 10, train: 3.9, val: 4.1 },
    { kind: 'step', step: 20, loss: 3, lr: 2e-4 },
  ].map((r) => JSON.stringify(r)).join('\n') + '\n');

  it('writes loss.svg beside the log by default, or to --out', async () => {
    expect((await run('plot', '--log', log)).code).toBe(0);
    const svg = readFileSync(join(scratch, 'loss.svg'), 'utf8');
    expect(svg).toContain('<path class="line lr"');
    expect(svg).toContain('<path class="line val"');
    expect(cli.out.join('\n')).toContain(`wrote ${join(scratch, 'loss.svg')}`);
    const other = join(scratch, 'plots', 'curves.svg');
    expect((await run('plot', '--log', log, '--out', other, '--title', 'Run <1>')).code).toBe(0);
    expect(readFileSync(other, 'utf8')).toContain('Run &lt;1&gt;');
  });

  it('fails clearly on a missing flag, a missing file, bad JSON and an empty log', async () => {
    let r = await run('plot');
    expect([r.code, r.err]).toEqual([1, expect.stringMatching(/tinygpt plot: --log FILE\.jsonl is required/)]);
    r = await run('plot', '--log', join(scratch, 'nope.jsonl'));
    expect([r.code, r.err]).toEqual([1, expect.stringMatching(/nope\.jsonl does not exist: pass the metrics\.jsonl/)]);
    const bad = join(scratch, 'bad.jsonl');
    writeFileSync(bad, '{"kind":"step","step":1,"loss":2,"lr":3}\nnot json\n');
    r = await run('plot', '--log', bad);
    expect([r.code, r.err]).toEqual([1, expect.stringMatching(/bad\.jsonl line 2: not valid JSON/)]);
    const empty = join(scratch, 'empty.jsonl');
    writeFileSync(empty, '\n');
    r = await run('plot', '--log', empty, '--out', join(scratch, 'never.svg'));
    expect([r.code, r.err]).toEqual([1, expect.stringMatching(/empty\.jsonl has no step or eval records/)]);
    expect(existsSync(join(scratch, 'never.svg'))).toBe(false);
  });
});

describe('tinygpt attention', () => {
  const ckpt = join(scratch, 'run', 'ckpt');
  const corpus = 'to be or not to be & <that> is it';

  const tokenizer = CharTokenizer.fromText(corpus);
  let model: GPT;
  beforeAll(async () => {
    model = new GPT({ vocabSize: tokenizer.vocabSize, nLayer: 2, nHead: 2, nEmbd: 8, blockSize: 8, seed: 1 });
    await saveCheckpoint(ckpt, { config: { model_type: 'tinygpt', ...model.config }, weights: model.namedWeights(), tokenizer: tokenizer.toJSON() });
  });
  afterAll(() => model.dispose());

  it('draws layers × heads × T × T cells with escaped token labels, leaving no tensors', async () => {
    const file = join(scratch, 'attn.svg');
    const before = tf.memory().numTensors;
    const r = await run('attention', '--checkpoint', join(scratch, 'run'), '--text', 'a <b& ', '--out', file, '--backend', backend);
    expect(r.code, r.err).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const svg = readFileSync(file, 'utf8');
    expect(cells(svg)).toBe(2 * 2 * 6 * 6); // 2 layers · 2 heads · 6 tokens²
    expect(svg).toContain('>&lt;</text>');
    expect(svg).toContain('>&amp;</text>');
    expect(svg).toContain('>␣</text>');
    expect(cli.out.join('\n')).toContain('(2 layers × 2 heads, 6 tokens)');
  });

  it('--layer and --head draw one panel, titled with the model\'s numbers', async () => {
    const file = join(scratch, 'one.svg');
    const r = await run('attention', '--checkpoint', ckpt, '--text', 'a <b& ', '--out', file, '--layer', '1', '--head', '0', '--backend', backend);
    expect(r.code, r.err).toBe(0);
    const svg = readFileSync(file, 'utf8');
    expect(cells(svg)).toBe(6 * 6);
    expect(svg).toContain('<g class="panel" data-layer="1" data-head="0">');
    expect(cli.out.join('\n')).toMatch(/\(1 layer × 1 head, 6 tokens\), \d+ kB/);
  });

  it('--query draws that token\'s weights over the earlier tokens, one strip per head, from forward(returnAttention)', async () => {
    const text = 'to be or';
    const ids = tokenizer.encode(text);
    // The reference weights through a bare { config, forward } object: only forward(ids, { returnAttention }) is used.
    const source: AttentionSource = { config: model.config, forward: (x, o) => model.forward(x, o) };
    const { maps } = await computeAttention(source, ids);
    const file = join(scratch, 'strip.svg');
    const r = await run('attention', '--checkpoint', ckpt, '--text', text, '--out', file, '--query', 'be', '--backend', backend);
    expect(r.code, r.err).toBe(0);
    expect(cli.out.join('\n')).toContain('wrote ' + file + ' (4 strips for query 4 "e" over 5 tokens)');
    const svg = readFileSync(file, 'utf8');
    const fills = [...svg.matchAll(/<rect class="cell[^"]*" data-key="\d+"[^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    // "be" ends at token 4: keys 0..4 of row 4, for layers 0, 1 × heads 0, 1.
    const expected = [0, 1].flatMap((l) => [0, 1].flatMap((h) => [0, 1, 2, 3, 4].map((k) => attentionColor(maps[l][h][4][k]))));
    expect(fills).toEqual(expected);
    // Chosen head, first token excluded from the scale.
    const r2 = await run('attention', '--checkpoint', ckpt, '--text', text, '--out', file, '--query=-1', '--layer', '0', '--head', '1', '--exclude-first', '--backend', backend);
    expect(r2.code, r2.err).toBe(0);
    const svg2 = readFileSync(file, 'utf8');
    const f2 = [...svg2.matchAll(/<rect class="cell[^"]*" data-key="\d+"[^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    const row = maps[0][1][7];
    const max = Math.max(...row.slice(1));
    expect(f2).toEqual(row.map((w, k) => (k === 0 ? EXCLUDED_COLOR : attentionColor(w, max))));
  });

  it('fails clearly on bad input', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['attention', '--checkpoint', ckpt, '--text', 'to', '--layer', '2'], /--layer must be an integer in 0\.\.1 \(the model has 2 layers\), got "2"/],
      [['attention', '--checkpoint', ckpt, '--text', 'to', '--head', 'x'], /--head must be an integer in 0\.\.1/],
      [['attention', '--checkpoint', ckpt, '--text', 'to', '--query', 'zz'], /--query "zz" matches no token of the text/],
      [['attention', '--checkpoint', ckpt, '--text', 'to', '--query', '2'], /--query 2 is outside the 2 tokens/],
      [['attention', '--text', 'to be'], /--checkpoint DIR is required/],
      [['attention', '--checkpoint', ckpt], /--text must be a non-empty string/],
      [['attention', '--checkpoint', ckpt, '--text', ''], /--text must be a non-empty string/],
      [['attention', '--checkpoint', join(scratch, 'nowhere'), '--text', 'to'], /nowhere does not exist/],
      [['attention', '--checkpoint', ckpt, '--text', 'to be or not'], /--text is 12 tokens but the model's context is 8/],
      [['attention', '--checkpoint', ckpt, '--text', 'xyz'], /not in the vocabulary/i],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv, '--backend', backend);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/^tinygpt attention: /);
    }
  });

  it('names what is missing in a folder that is not a checkpoint', async () => {
    const notCkpt = join(scratch, 'not-a-checkpoint');
    mkdirSync(notCkpt, { recursive: true });
    writeFileSync(join(notCkpt, 'config.json'), '{}');
    let r = await run('attention', '--checkpoint', notCkpt, '--text', 'to', '--backend', backend);
    expect([r.code, r.err]).toEqual([1, expect.stringMatching(/has no tokenizer\.json/)]);
    writeFileSync(join(notCkpt, 'tokenizer.json'), JSON.stringify({ type: 'char', chars: ['t', 'o'] }));
    r = await run('attention', '--checkpoint', notCkpt, '--text', 'to', '--backend', backend);
    expect([r.code, r.err]).toEqual([1, expect.stringMatching(/GPTConfig\.vocabSize is required/)]);
  });
});
