import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_ANSWER,
  DEMO_PARAGRAPH,
  homeworkMessages,
  parseSentimentAnswer,
  RUBRIC,
  TARGET_PARAGRAPH,
} from '../examples/homework.js';
import { pipeline } from '../src/pretrained/pipeline.js';
import { writeChatFolder } from './hfFolder.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-homework-'));
const dir = join(scratch, 'gemma-tiny');
const backend = process.env.TINYGPT_BACKEND ?? 'cpu';
// The tokenizer learns its merges from the homework text too, so the prompt stays short.
beforeAll(async () =>
  (
    await writeChatFolder(dir, { corpus: [RUBRIC, DEMO_PARAGRAPH, DEMO_ANSWER, TARGET_PARAGRAPH].join('\n'), blockSize: 1024 })
  ).dispose(),
);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('homework answer parsing', () => {
  it('reads the four lines, tolerating blank lines and spaces around "="', () => {
    const parsed = parseSentimentAnswer(
      '\nLABEL = negative\nSCORE=-0.65\n\nRATIONALE=Sales and margins fell.\nEVIDENCE=  consumer segment fell 9 percent \n',
    );
    expect(parsed).toEqual({
      ok: true,
      answer: {
        label: 'negative',
        score: -0.65,
        rationale: 'Sales and margins fell.',
        evidence: 'consumer segment fell 9 percent',
      },
      extraLines: [],
    });
    expect(parseSentimentAnswer(DEMO_ANSWER).ok).toBe(true);
  });

  it('names every problem of a malformed answer', () => {
    const parsed = parseSentimentAnswer('Sure! Here is my answer:\nLABEL=bullish\nSCORE=1.5\nLABEL=positive\nEVIDENCE=');
    expect(parsed).toEqual({
      ok: false,
      problems: [
        'LABEL appears more than once',
        'the RATIONALE= line is missing',
        'EVIDENCE= is empty',
        'LABEL must be positive, negative or neutral, got "bullish"',
        'SCORE must be a number from -1 to 1, got "1.5"',
      ],
      extraLines: ['Sure! Here is my answer:'],
    });
    const contradiction = parseSentimentAnswer('LABEL=positive\nSCORE=-0.2\nRATIONALE=r\nEVIDENCE=e');
    expect(contradiction.ok ? [] : contradiction.problems).toEqual(['SCORE -0.2 contradicts LABEL=positive']);
    expect(parseSentimentAnswer('SCORE=0x1').ok).toBe(false);
  });

  it('builds the rubric, the demonstration and the paragraph as alternating turns', () => {
    const m = homeworkMessages('Our quarter was flat.');
    expect(m.map((x) => x.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(m[2].content).toBe(DEMO_ANSWER);
    expect(m[3].content).toBe('Paragraph: Our quarter was flat.');
  });
});

describe('examples/homework.ts end to end', () => {
  // TODO(issue 14 item 1): run on a Gemma-3 HF folder written by savePretrained(dir, { format: 'hf' }) once main has it.
  it('runs on a tiny random Gemma-3-shaped folder and reports the (random) reply as malformed', async () => {
    const p = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'examples/homework.ts', '--model', dir, '--max-new-tokens', '12', '--backend', backend],
      {
        encoding: 'utf8',
      },
    );
    // The same reply, computed in-process through the pipeline.
    const pipe = await pipeline('text-generation', dir);
    const [want] = await pipe(homeworkMessages(), { maxNewTokens: 12, returnFullText: false });
    const promptTokens = pipe.tokenizer.encode(pipe.renderChat(homeworkMessages()), { addSpecialTokens: false }).length;
    pipe.dispose();
    expect(p.stderr).not.toMatch(/\n\s+at /);
    expect(p.stdout).toContain(`prompt ${promptTokens} tokens; greedy, at most 12 new tokens`);
    expect(p.stdout).toContain(`--- reply ---\n${want.generatedText}\n--- parsed ---`);
    expect(promptTokens).toBeLessThan(1024);
    const parsed = parseSentimentAnswer(want.generatedText);
    expect(parsed.ok).toBe(false);
    expect(p.status).toBe(2);
    expect(p.stderr).toContain(`homework: malformed answer: ${parsed.ok ? '' : parsed.problems.join('; ')}.`);
    // --dtype auto (how a real bfloat16 Gemma 3 1B folder runs) gives the same reply.
    const auto = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'examples/homework.ts',
        '--model',
        dir,
        '--max-new-tokens',
        '12',
        '--dtype',
        'auto',
        '--backend',
        backend,
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(auto.stdout).toContain(`--- reply ---\n${want.generatedText}\n--- parsed ---`);
    expect(auto.status).toBe(2);
  });

  it('says how to call it when --model is missing', () => {
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'examples/homework.ts'], { encoding: 'utf8' });
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/usage: npx tsx examples\/homework.ts --model DIR/);
  });
});
