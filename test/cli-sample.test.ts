/**
 * `tinygpt sample` flags: sampling by default with nanoGPT's settings, --greedy / --do-sample,
 * --num-samples, --prompt-file and --stop, each checked against the library run directly.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unescapeStop } from '../src/cli/sample.js';
import { saveCheckpoint } from '../src/io/checkpoint.js';
import { GPT } from '../src/model/gpt.js';
import { generateAll } from '../src/sample/generate.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { createRng } from '../src/util/rng.js';
import { cliHarness } from './cliHarness.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-cli-sample-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const backend = process.env.TINYGPT_BACKEND ?? 'cpu';
const ckpt = join(scratch, 'ckpt');
const tokenizer = CharTokenizer.fromText('the cat sat on the mat.\n');
const PROMPT = 'the ';
let model: GPT;

const cli = cliHarness();
async function sample(...flags: string[]): Promise<string> {
  cli.out = [];
  const r = await cli.run('sample', '--checkpoint', ckpt, '--backend', backend, ...flags);
  expect(r.code, r.err).toBe(0);
  return cli.out.join('');
}

beforeAll(async () => {
  model = new GPT({ vocabSize: tokenizer.vocabSize, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, seed: 3 });
  await saveCheckpoint(ckpt, { config: { model_type: 'tinygpt', ...model.config }, weights: model.namedWeights(), tokenizer: tokenizer.toJSON() });
});
afterAll(() => model.dispose());

/** What the library gives for the same settings: the reference for the CLI's text. */
async function library(n: number, options: object, rng = createRng(1337)): Promise<string> {
  return tokenizer.decode(await generateAll(model, tokenizer.encode(PROMPT), { maxNewTokens: n, ...options, rng }));
}
const SAMPLED = { doSample: true, temperature: 0.8, topK: 200, topP: 1 };

describe('tinygpt sample', () => {
  it('samples by default with temperature 0.8, top-k 200, seed 1337; --greedy takes the argmax', async () => {
    const sampled = await library(30, SAMPLED);
    const greedy = await library(30, {});
    expect(sampled).not.toBe(greedy);
    expect(await sample('--prompt', PROMPT, '--max-new-tokens', '30')).toBe(`${PROMPT}${sampled}\n`);
    expect(await sample('--prompt', PROMPT, '--max-new-tokens', '30', '--do-sample')).toBe(`${PROMPT}${sampled}\n`);
    expect(await sample('--prompt', PROMPT, '--max-new-tokens', '30', '--greedy')).toBe(`${PROMPT}${greedy}\n`);
    expect(await sample('--prompt', PROMPT, '--max-new-tokens', '30', '--temperature', '0')).toBe(`${PROMPT}${greedy}\n`);
  });

  it('--num-samples prints that many samples from one rng, separated by a line of dashes', async () => {
    const rng = createRng(1337);
    const texts = [await library(10, SAMPLED, rng), await library(10, SAMPLED, rng), await library(10, SAMPLED, rng)];
    const out = await sample('--prompt', PROMPT, '--max-new-tokens', '10', '--num-samples', '3');
    expect(out).toBe(texts.map((t) => `${PROMPT}${t}\n`).join('---------------\n'));
    expect(new Set(texts).size).toBe(3);
  });

  it('--prompt-file reads the prompt from a file', async () => {
    const file = join(scratch, 'prompt.txt');
    writeFileSync(file, PROMPT);
    expect(await sample('--prompt-file', file, '--max-new-tokens', '12', '--greedy')).toBe(`${PROMPT}${await library(12, {})}\n`);
  });

  it('--stop ends each sample exactly before the stop string (which is not printed)', async () => {
    const greedy = await library(40, {});
    // A two-character stop taken from the greedy continuation, where it first occurs.
    const stop = greedy.slice(5, 7);
    const at = greedy.indexOf(stop);
    expect(await sample('--prompt', PROMPT, '--max-new-tokens', '40', '--greedy', '--stop', stop)).toBe(`${PROMPT}${greedy.slice(0, at)}\n`);
    // Of two stops, the earlier one wins.
    const early = greedy.slice(1, 2);
    const out = await sample('--prompt', PROMPT, '--max-new-tokens', '40', '--greedy', '--stop', stop, '--stop', early);
    expect(out).toBe(`${PROMPT}${greedy.slice(0, Math.min(at, greedy.indexOf(early)))}\n`);
  });

  it('reads \\n, \\t and \\\\ in stop strings as escapes', () => {
    expect(unescapeStop('a\\n\\nb\\tc\\\\n')).toBe('a\n\nb\tc\\n');
  });

  it('rejects contradicting or meaningless flags with one line naming them', async () => {
    const promptFile = join(scratch, 'p2.txt');
    writeFileSync(promptFile, 'the');
    mkdirSync(join(scratch, 'folder'), { recursive: true });
    writeFileSync(join(scratch, 'empty.txt'), '');
    const cases: Array<[string[], RegExp]> = [
      [['--greedy', '--do-sample'], /--greedy and --do-sample contradict each other/],
      [['--greedy', '--temperature', '0.7'], /--temperature only applies when sampling; drop --greedy/],
      [['--greedy', '--num-samples', '2'], /--num-samples 2 with greedy decoding prints 2 identical texts/],
      [['--num-samples', '0'], /--num-samples must be an integer >= 1, got 0/],
      [['--prompt', 'a', '--prompt-file', promptFile], /either --prompt or --prompt-file, not both/],
      [['--prompt-file', join(scratch, 'nope.txt')], /--prompt-file .*nope\.txt does not exist/],
      [['--prompt-file', join(scratch, 'folder')], /--prompt-file .*folder is a folder/],
      [['--prompt-file', join(scratch, 'empty.txt')], /--prompt-file .*empty\.txt is empty/],
      [['--stop', ''], /--stop must not be empty/],
    ];
    for (const [flags, message] of cases) {
      const r = await cli.run('sample', '--checkpoint', ckpt, '--backend', backend, ...flags);
      expect(r.code, flags.join(' ')).toBe(1);
      expect(r.err).toMatch(message);
    }
  });
});
