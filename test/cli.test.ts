import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliHarness } from './cliHarness.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const TEXT = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
const corpus = join(scratch, 'corpus.txt');
writeFileSync(corpus, TEXT);
const backend = process.env.TINYGPT_BACKEND ?? 'cpu';
const tiny = ['--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '4'];

const cli = cliHarness();
const run = cli.run;

describe('tinygpt CLI: bad input gets a clear message and exit code 1', () => {
  const cases: Array<[string[], RegExp]> = [
    [['train', '--n-layer', 'x'], /--n-layer must be an integer, got "x"/],
    [['train', '--lr', 'fast'], /--lr must be a number, got "fast"/],
    [['train', '--bogus'], /Unknown option '--bogus'/],
    [['train', '--n-embd', '130', '--n-head', '4'], /nEmbd \(130\) must be divisible by nHead \(4\)/],
    [['train', '--tokenizer', 'bpe'], /--tokenizer bpe needs --vocab-size N/],
    [['train', '--tokenizer', 'word'], /--tokenizer must be "char" or "bpe"/],
    [['train', '--preset', 'gpt5'], /--preset must be one of .*gemma3-tiny/],
    [['train', '--max-iters=-5'], /maxIters must be an integer >= 0, got -5/],
    [['sample'], /--checkpoint DIR is required/],
    [['sample', '--checkpoint', join(scratch, 'nope')], /does not exist/],
    [['bogus'], /unknown command "bogus"/],
    // Sane bounds before any allocation (tfjs used to fail with "Invalid typed array length").
    [['train', '--block-size', '1e6'], /^tinygpt train: --block-size 1e6 is too large: at most 16384 \(the attention scores alone need blockSize² numbers per head\); pass a smaller value\.$/],
    [['train', '--batch-size', '100000', '--block-size', '1024'], /--batch-size 100000 is too large: at most 65536/],
    [['sample', '--max-new-tokens', '1e10', '--checkpoint', 'x'], /--max-new-tokens 1e10 is too large: at most 1000000000/],
    // A negative number after a space reaches the flag's own check (Node: "argument is ambiguous").
    [['train', '--max-iters', '-5'], /^tinygpt train: TrainOptions\.maxIters must be an integer >= 0, got -5\.$/],
    [['train', '--lr', '-.5'], /^tinygpt train: TrainOptions\.lr must be a finite number > 0 \(e\.g\. 1e-3\), got -0\.5\.$/],
  ];
  for (const [argv, message] of cases) {
    it(`${argv.join(' ')}`, async () => {
      const { code, err } = await run(...argv);
      expect(code).toBe(1);
      expect(err).toMatch(message);
    });
  }

  it('rejects an empty corpus and one shorter than blockSize + 1', async () => {
    const empty = join(scratch, 'empty.txt');
    writeFileSync(empty, '');
    let r = await run('train', '--data', empty, '--out', join(scratch, 'o1'), '--backend', backend);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is empty/);
    const short = join(scratch, 'short.txt');
    writeFileSync(short, 'abcdefghij');
    r = await run('train', '--data', short, '--out', join(scratch, 'o2'), '--backend', backend, ...tiny);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/blockSize 16 needs at least 17/);
  });

  it('turns folder/file mix-ups into one line naming the path and the fix', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    const dir = join(scratch, 'a-dir');
    mkdirSync(dir, { recursive: true });
    const cases: Array<[string[], string]> = [
      [['train', '--data', corpus, '--out', file, '--backend', backend, ...tiny], `tinygpt train: --out ${file}: ${file} is a file where a folder is expected; choose a folder path for the run's output.`],
      [['train', '--data', corpus, '--out', join(file, 'sub'), '--backend', backend, ...tiny], `tinygpt train: --out ${join(file, 'sub')}: ${file} is a file where a folder is expected; choose a folder path for the run's output.`],
      [['train', '--data', dir, '--out', join(scratch, 'o3'), '--backend', backend, ...tiny], `tinygpt train: ${dir} is a folder, not a text file: pass the path of the file itself.`],
      [['plot', '--log', dir], `tinygpt plot: ${dir} is a folder where the log file is expected: pass ${join(dir, 'metrics.jsonl')}.`],
      [['sample', '--checkpoint', file], `tinygpt sample: ${file} is a file, not a folder: pass the folder written by tinygpt train (--out).`],
    ];
    for (const [argv, line] of cases) {
      const { code, err } = await run(...argv);
      expect(code).toBe(1);
      expect(err.split('\n').filter((l) => l.startsWith('tinygpt ') && !/, backend \w+, out /.test(l))).toEqual([line]);
      cli.errors.length = 0;
    }
    const log = join(scratch, 'm.jsonl');
    writeFileSync(log, '{"kind":"step","step":1,"loss":2,"lr":0.001}\n');
    const r = await run('plot', '--log', log, '--out', dir);
    expect(r.err).toBe(`tinygpt plot: ${dir} is a folder where a file is expected: pass a file path instead.`);
    cli.errors.length = 0;
    // A raw EEXIST from mkdir (a file where the output's folder should be), as one line.
    const r2 = await run('plot', '--log', log, '--out', join(file, 'loss.svg'));
    expect(r2.err).toBe(`tinygpt plot: ${file} is a file where a folder is expected: move it away or choose another path.`);
  });

  it('exits non-zero from a real process without a stack trace', () => {
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', '--block-size=-3'], {
      encoding: 'utf8',
      env: { ...process.env, TINYGPT_DEBUG: '' },
    });
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/tinygpt train: GPTConfig\.blockSize must be an integer >= 1, got -3/);
    expect(p.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('tinygpt train → sample end to end', () => {
  it('trains, checkpoints, resumes and samples with the char tokenizer', async () => {
    const dir = join(scratch, 'char');
    const common = ['--data', corpus, '--out', dir, '--backend', backend, ...tiny, '--eval-interval', '5', '--eval-iters', '2'];
    expect((await run('train', ...common, '--max-iters', '5')).code).toBe(0);
    const trainer1 = JSON.parse(readFileSync(join(dir, 'ckpt', 'trainer.json'), 'utf8'));
    expect(trainer1.state.step).toBe(5);
    expect((await run('train', ...common, '--max-iters', '10', '--resume')).code).toBe(0);
    const trainer2 = JSON.parse(readFileSync(join(dir, 'ckpt', 'trainer.json'), 'utf8'));
    expect(trainer2.state.step).toBe(10);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.kind === 'eval').map((l) => l.step)).toEqual([5, 10]);
    cli.out = [];
    const r = await run('sample', '--checkpoint', dir, '--prompt', 'the ', '--max-new-tokens', '12', '--temperature', '0', '--backend', backend);
    expect(r.code).toBe(0);
    const text = cli.out.join('');
    // The prompt, 12 new characters (all from the corpus's alphabet), and a closing newline.
    expect(text.startsWith('the ')).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    const generated = text.slice('the '.length, -1);
    expect(generated.length).toBe(12);
    expect([...generated].every((ch) => TEXT.includes(ch))).toBe(true);
  });

  it('--resume refuses a tokenizer larger than the model\'s vocabulary', async () => {
    const dir = join(scratch, 'char'); // trained above
    const tokFile = join(dir, 'ckpt', 'tokenizer.json');
    const tok = JSON.parse(readFileSync(tokFile, 'utf8')) as { chars: string[] };
    const size = tok.chars.length;
    writeFileSync(tokFile, JSON.stringify({ ...tok, chars: [...tok.chars, 'Z'] }));
    const r = await run('train', '--data', corpus, '--out', dir, '--backend', backend, '--resume', '--max-iters', '11');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`tinygpt train: .*ckpt: tokenizer\\.json has ${size + 1} tokens but the model only ${size}; the files belong to different runs\\.`));
    writeFileSync(tokFile, JSON.stringify(tok));
  });

  it('trains with --tokenizer bpe and stores that tokenizer in the checkpoint', async () => {
    const dir = join(scratch, 'bpe');
    const r = await run('train', '--data', corpus, '--out', dir, '--backend', backend, ...tiny,
      '--tokenizer', 'bpe', '--vocab-size', '270', '--max-iters', '2', '--eval-interval', '2', '--eval-iters', '1');
    expect(r.code).toBe(0);
    const tok = JSON.parse(readFileSync(join(dir, 'ckpt', 'tokenizer.json'), 'utf8'));
    expect(tok.type).toBe('tinygpt-bpe');
    const config = JSON.parse(readFileSync(join(dir, 'ckpt', 'config.json'), 'utf8'));
    expect(config.vocabSize).toBeGreaterThan(256);
    expect(config.vocabSize).toBeLessThanOrEqual(270);
    expect(existsSync(join(dir, 'ckpt', 'optimizer.safetensors'))).toBe(true);
  });

  it('trains a Gemma-style model with --preset and samples from it', async () => {
    const dir = join(scratch, 'gemma');
    const r = await run('train', '--data', corpus, '--out', dir, '--backend', backend, '--preset', 'gemma3-tiny',
      '--n-layer', '2', '--block-size', '16', '--batch-size', '2', '--max-iters', '2', '--eval-interval', '2', '--eval-iters', '1');
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'ckpt', 'config.json'), 'utf8'));
    expect(config).toMatchObject({ position: 'rope', norm: 'rmsnorm', activation: 'geglu', nKvHead: 1, nLayer: 2, blockSize: 16 });
    cli.out = [];
    const s = await run('sample', '--checkpoint', dir, '--prompt', 'the', '--max-new-tokens', '5', '--temperature', '0', '--backend', backend);
    expect(s.code).toBe(0);
    expect(cli.out.join('').length).toBe('the'.length + 5 + 1);
  });

  it('rejects bad sampling options by name', async () => {
    // With a space before the negative number: Node's parseArgs would call it "ambiguous".
    const r = await run('sample', '--checkpoint', join(scratch, 'char'), '--prompt', 'the ', '--temperature', '-1', '--backend', backend);
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/ambiguous/);
    expect(r.err).toMatch(/^tinygpt sample: .*temperature.*-1/);
  });
});
