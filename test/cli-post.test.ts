import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliHarness } from './cliHarness.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-post-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// The corpus holds every character the chat template and the answers use, so the char vocabulary covers them.
const TEXT = '<|im_start|>user\nthe quick brown fox? <|im_end|>\n<|im_start|>assistant\nyes=no LABEL<|im_end|>\n'.repeat(20);
const corpus = join(scratch, 'corpus.txt');
writeFileSync(corpus, TEXT);
const sftData = join(scratch, 'sft.jsonl');
writeFileSync(
  sftData,
  [
    { messages: [{ role: 'user', content: 'fox?' }, { role: 'assistant', content: 'yes' }] },
    { prompt: 'the quick', completion: ' brown' },
  ]
    .map((x) => JSON.stringify(x))
    .join('\n'),
);
const dpoData = join(scratch, 'dpo.jsonl');
writeFileSync(
  dpoData,
  [
    { prompt: [{ role: 'user', content: 'fox?' }], chosen: 'yes', rejected: 'no' },
    { prompt: 'the quick', chosen: ' brown', rejected: ' quick' },
  ]
    .map((x) => JSON.stringify(x))
    .join('\n'),
);
const backend = process.env.TINYGPT_BACKEND ?? 'cpu';
const base = join(scratch, 'base');

const cli = cliHarness();
const run = cli.run;

beforeAll(async () => {
  const tiny = ['--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '64', '--batch-size', '2'];
  const r = await run('train', '--data', corpus, '--out', base, '--backend', backend, ...tiny, '--max-iters', '2', '--eval-iters', '1');
  expect(r.code).toBe(0);
});

describe('tinygpt sft and dpo', () => {
  it('sft writes a checkpoint and metrics; dpo starts from it and logs TRL\'s metric names', async () => {
    const sftOut = join(scratch, 'sft');
    const r1 = await run('sft', '--init-from', base, '--data', sftData, '--out', sftOut, '--backend', backend, '--max-iters', '3', '--batch-size', '2', '--max-length', '60');
    expect(r1.code).toBe(0);
    expect(r1.err).toMatch(/warning: 1 examples longer than --max-length 60 were truncated/);
    expect(r1.err).not.toMatch(/skipped/);
    expect(existsSync(join(sftOut, 'ckpt', 'model.safetensors'))).toBe(true);
    const sftLog = readFileSync(join(sftOut, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(sftLog.at(-1)).toMatchObject({ kind: 'eval', step: 3 });
    const dpoOut = join(scratch, 'dpo');
    const r2 = await run('dpo', '--init-from', sftOut, '--data', dpoData, '--beta', '0.1', '--out', dpoOut, '--backend', backend, '--max-iters', '2', '--batch-size', '2');
    expect(r2.code).toBe(0);
    const ev = readFileSync(join(dpoOut, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).at(-1);
    for (const k of ['rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected']) {
      expect(typeof ev[k]).toBe('number');
    }
    expect(r2.err).toMatch(/rewards\/margins/);
  });

  it('--lora-rank trains adapters only, saves them as PEFT files and merges them into the checkpoint', async () => {
    const out = join(scratch, 'sft-lora');
    const r = await run('sft', '--init-from', base, '--data', sftData, '--out', out, '--backend', backend, '--max-iters', '2', '--lora-rank', '2', '--lora-alpha', '4', '--lora-targets', 'c_attn,c_fc');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/LoRA: 2 adapters, \d+ trainable parameters/);
    const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['c_attn', 'c_fc'], base_model_name_or_path: base });
    expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'ckpt', 'model.safetensors'))).toBe(true);
    const r2 = await run('dpo', '--init-from', out, '--data', dpoData, '--out', join(scratch, 'dpo-lora'), '--backend', backend, '--max-iters', '1', '--lora-rank', '2');
    expect(r2.code).toBe(0);
    expect(existsSync(join(scratch, 'dpo-lora', 'adapter_model.safetensors'))).toBe(true);
  });

  it('bad input: one clear line naming the flag or the line', async () => {
    const bad = join(scratch, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ prompt: 'a', completion: 'b' })}\n{"prompt": "a"}\n`);
    const cases: Array<[string[], RegExp]> = [
      [['sft', '--data', sftData, '--out', 'x'], /--init-from DIR is required/],
      [['sft', '--init-from', base, '--data', bad, '--out', join(scratch, 'o1')], /bad\.jsonl:2: expected "messages", or "prompt" and "completion"/],
      [['dpo', '--init-from', base, '--data', sftData, '--out', join(scratch, 'o2')], /sft\.jsonl:1: expected a JSON object with "prompt", "chosen" and "rejected"/],
      [['dpo', '--init-from', base, '--data', dpoData, '--out', 'x', '--beta', '0'], /--beta must be a number > 0/],
      [['sft', '--init-from', base, '--data', join(scratch, 'none.jsonl'), '--out', 'x'], /--data .*none\.jsonl cannot be read \(ENOENT\)/],
      [['sft', '--init-from', base, '--data', sftData, '--out', 'x', '--max-length', '500'], /--max-length must be in \[2, 65\]/],
      [['sft', '--init-from', base, '--data', sftData, '--out', 'x', '--lora-alpha', '4'], /--lora-alpha, --lora-targets and --lora-dropout need --lora-rank R/],
      [['dpo', '--init-from', base, '--data', dpoData, '--out', 'x', '--lora-rank', '2', '--lora-targets', 'qkv'], /unknown LoRA target "qkv"/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv, '--backend', backend);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
    }
  });
});
