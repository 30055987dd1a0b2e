/**
 * `tinygpt eval` (loss and perplexity on a text, against hand computations) and `tinygpt --version`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../src/io/checkpoint.js';
import { GPT } from '../src/model/gpt.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { evaluateText } from '../src/train/perplexity.js';
import { cliHarness } from './cliHarness.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-cli-eval-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const backend = process.env.TINYGPT_BACKEND ?? 'cpu';
const cli = cliHarness();

// 9 distinct characters; the text below is 11 tokens, so 10 predictions.
const tokenizer = CharTokenizer.fromText('abcdefgh\n');
const TEXT = 'abcahgfed\nb';
const data = join(scratch, 'text.txt');
writeFileSync(data, TEXT);

async function save(dir: string, model: GPT): Promise<void> {
  await saveCheckpoint(dir, { config: { model_type: 'tinygpt', ...model.config }, weights: model.namedWeights(), tokenizer: tokenizer.toJSON() });
}

/** −ln softmax(z)[k] = logsumexp(z) − z_k, in doubles. */
function nll(z: ArrayLike<number>, k: number): number {
  let max = -Infinity;
  for (let i = 0; i < z.length; i++) max = Math.max(max, z[i]);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += Math.exp(z[i] - max);
  return max + Math.log(s) - z[k];
}

describe('tinygpt eval', () => {
  let random: GPT;
  beforeAll(async () => {
    random = new GPT({ vocabSize: tokenizer.vocabSize, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 4, seed: 5 });
    await save(join(scratch, 'random'), random);
    // Every weight 0: the residual stream, the norms' output and the tied head are all 0, so
    // the logits are 0 and p = 1/9 for every token: loss = ln 9 = 2.1972, perplexity 9.
    const zero = new GPT({ vocabSize: tokenizer.vocabSize, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 4, seed: 5 });
    for (const w of zero.namedWeights().values()) w.assign(tf.zerosLike(w));
    await save(join(scratch, 'zero'), zero);
    zero.dispose();
  });
  afterAll(() => random.dispose());

  it('gives ln V and perplexity V for a model that predicts uniformly', async () => {
    const r = await cli.run('eval', '--checkpoint', join(scratch, 'zero'), '--data', data, '--backend', backend);
    expect(r.code, r.err).toBe(0);
    expect(cli.out.join('\n')).toBe('loss 2.1972 nats/token, perplexity 9.000 (10 predicted tokens in 3 windows of up to 4)');
  });

  it('averages −ln p over non-overlapping blockSize windows, every token but the first predicted once', async () => {
    // 11 tokens, blockSize 4: inputs [0,4) [4,8) [8,10) predict tokens 1–4, 5–8 and 9–10.
    const ids = tokenizer.encode(TEXT);
    let sum = 0;
    for (const [start, t] of [[0, 4], [4, 4], [8, 2]]) {
      const logits = tf.tidy(() => random.forward(tf.tensor2d(ids.slice(start, start + t), [1, t], 'int32'))); // (1, T, V)
      const z = logits.dataSync();
      logits.dispose();
      const v = tokenizer.vocabSize;
      for (let j = 0; j < t; j++) sum += nll(z.subarray(j * v, (j + 1) * v), ids[start + j + 1]);
    }
    const expected = sum / 10;
    const before = tf.memory().numTensors;
    for (const batchSize of [1, 8]) {
      const r = await evaluateText(random, ids, { batchSize });
      expect(r.loss).toBeCloseTo(expected, 5);
      expect(r.perplexity).toBeCloseTo(Math.exp(expected), 4);
      expect([r.tokens, r.windows]).toEqual([10, 3]);
    }
    expect(tf.memory().numTensors).toBe(before);
    const out = await cli.run('eval', '--checkpoint', join(scratch, 'random'), '--data', data, '--backend', backend);
    expect(out.code, out.err).toBe(0);
    expect(cli.out.join('\n')).toBe(`loss ${expected.toFixed(4)} nats/token, perplexity ${Math.exp(expected).toFixed(3)} (10 predicted tokens in 3 windows of up to 4)`);
  });

  it('fails clearly on missing flags, a missing file and a one-token text', async () => {
    const one = join(scratch, 'one.txt');
    writeFileSync(one, 'a');
    const cases: Array<[string[], RegExp]> = [
      [['eval', '--data', data], /--checkpoint DIR is required/],
      [['eval', '--checkpoint', join(scratch, 'random')], /--data FILE is required/],
      [['eval', '--checkpoint', join(scratch, 'random'), '--data', join(scratch, 'nope.txt')], /Text file not found: .*nope\.txt/],
      [['eval', '--checkpoint', join(scratch, 'random'), '--data', one], /encodes to 1 token\(s\); at least 2 are needed/],
      [['eval', '--checkpoint', join(scratch, 'random'), '--data', data, '--batch-size', '0'], /--batch-size must be an integer >= 1/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli.run(...argv, '--backend', backend);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/^tinygpt eval: /);
    }
  });
});

describe('tinygpt --version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const r = await cli.run('--version');
    expect(r.code).toBe(0);
    expect(cli.out).toEqual([version]);
  });
});
