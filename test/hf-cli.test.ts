import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChat } from '../src/cli/chat.js';
import { ChatSession } from '../src/pretrained/chatSession.js';
import { pipeline } from '../src/pretrained/pipeline.js';
import { cliHarness } from './cliHarness.js';
import { writeChatFolder } from './hfFolder.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-hfcli-'));
const dir = join(scratch, 'gemma-tiny');
const backend = process.env.TINYGPT_BACKEND ?? 'cpu';
beforeAll(async () => (await writeChatFolder(dir)).dispose());
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const cli = cliHarness();

/** Replies a fresh ChatSession gives to these turns (greedy), to compare the REPL's output with. */
async function expectedReplies(turns: readonly string[], maxNewTokens: number): Promise<string[]> {
  const pipe = await pipeline('text-generation', dir);
  const chat = new ChatSession(pipe.model, pipe.tokenizer, pipe.stopTokenIds);
  try {
    const out: string[] = [];
    for (const t of turns) {
      let r = '';
      for await (const piece of chat.send(t, { maxNewTokens, temperature: 0 })) r += piece;
      out.push(r);
    }
    return out;
  } finally {
    chat.dispose();
    pipe.dispose();
  }
}

describe('tinygpt generate', () => {
  it('streams the greedy continuation of the prompt', async () => {
    const { code, err } = await cli.run(
      'generate',
      '--model',
      dir,
      '--prompt',
      'The results were',
      '--max-new-tokens',
      '6',
      '--backend',
      backend,
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    const pipe = await pipeline('text-generation', dir);
    const [want] = await pipe('The results were', { maxNewTokens: 6 });
    pipe.dispose();
    expect(cli.out.join('')).toBe(want.generatedText + '\n');
  });

  it('--dtype auto gives the same greedy text on the DotEngine; a bad --dtype is named', async () => {
    const { code, err } = await cli.run(
      'generate',
      '--model',
      dir,
      '--prompt',
      'The results were',
      '--max-new-tokens',
      '6',
      '--dtype',
      'auto',
      '--backend',
      backend,
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    const pipe = await pipeline('text-generation', dir);
    const [want] = await pipe('The results were', { maxNewTokens: 6 });
    pipe.dispose();
    expect(cli.out.join('')).toBe(want.generatedText + '\n');
    const bad = await cli.run('generate', '--model', dir, '--prompt', 'x', '--dtype', 'fp16');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--dtype must be fp32 or auto, got "fp16"/);
  });

  it('--do-sample samples with the seed, as the pipeline does with doSample', async () => {
    const { code } = await cli.run(
      'generate',
      '--model',
      dir,
      '--prompt',
      'We are',
      '--do-sample',
      '--temperature',
      '5',
      '--seed',
      '3',
      '--max-new-tokens',
      '8',
      '--backend',
      backend,
    );
    expect(code).toBe(0);
    const pipe = await pipeline('text-generation', dir);
    const [want] = await pipe('We are', { maxNewTokens: 8, doSample: true, temperature: 5, seed: 3 });
    const [greedy] = await pipe('We are', { maxNewTokens: 8 });
    pipe.dispose();
    expect(cli.out.join('')).toBe(want.generatedText + '\n');
    expect(want.generatedText).not.toBe(greedy.generatedText);
  });

  it('--chat sends the prompt as a user turn through the chat template', async () => {
    const { code } = await cli.run(
      'generate',
      '--model',
      dir,
      '--prompt',
      'Hello there',
      '--chat',
      '--max-new-tokens',
      '5',
      '--backend',
      backend,
    );
    expect(code).toBe(0);
    const pipe = await pipeline('text-generation', dir);
    const [want] = await pipe([{ role: 'user', content: 'Hello there' }], { maxNewTokens: 5, returnFullText: false });
    pipe.dispose();
    expect(cli.out.join('')).toBe(want.generatedText + '\n');
  });

  const cases: Array<[string[], RegExp]> = [
    [['generate', '--prompt', 'x'], /--model DIR is required/],
    [['generate', '--model', dir], /--prompt TEXT is required/],
    [['generate', '--model', dir, '--prompt', 'x', '--temperature', '0.7'], /only apply with --do-sample/],
    [['generate', '--model', join(scratch, 'none'), '--prompt', 'x'], /has no tokenizer.json/],
    [['chat'], /--model DIR is required/],
  ];
  for (const [argv, message] of cases) {
    it(argv.join(' '), async () => {
      const { code, err } = await cli.run(...argv);
      expect(code).toBe(1);
      expect(err).toMatch(message);
    });
  }
});

describe('tinygpt chat', () => {
  it('answers each input line in turn, keeping the conversation (in-process, stream input)', async () => {
    const output = new PassThrough();
    const chunks: string[] = [];
    output.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    await runChat(['--model', dir, '--max-new-tokens', '4', '--backend', backend], {
      input: Readable.from(['Hello there\n', '\n', 'And the outlook?\n']),
      output,
    });
    const want = await expectedReplies(['Hello there', 'And the outlook?'], 4);
    expect(chunks.join('')).toBe(want.map((r) => r + '\n').join(''));
  });

  it('/reset starts a new conversation; /exit quits', async () => {
    const output = new PassThrough();
    const chunks: string[] = [];
    output.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    await runChat(['--model', dir, '--max-new-tokens', '3', '--backend', backend], {
      input: Readable.from(['Hello there\n', '/reset\n', 'Hello there\n', '/exit\n', 'never read\n']),
      output,
    });
    const [first] = await expectedReplies(['Hello there'], 3);
    expect(chunks.join('')).toBe(`${first}\n(conversation cleared)\n${first}\n`);
  });

  it('runs as a process reading piped stdin', async () => {
    const want = await expectedReplies(['Hello there', 'And the outlook?'], 4);
    const p = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'chat', '--model', dir, '--max-new-tokens', '4', '--backend', backend],
      {
        input: 'Hello there\nAnd the outlook?\n',
        encoding: 'utf8',
        env: { ...process.env, TINYGPT_DEBUG: '' },
      },
    );
    expect(p.stderr).not.toMatch(/\n\s+at /);
    expect(p.status).toBe(0);
    expect(p.stdout.endsWith(want.map((r) => r + '\n').join(''))).toBe(true);
  });
});
