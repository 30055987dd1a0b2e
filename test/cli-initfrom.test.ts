import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GPT } from '../src/model/gpt.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { savePretrained } from '../src/pretrained/pretrained.js';
import { gpt2ByteToChar } from '../src/tokenizer/bpe-bytes.js';
import { cliHarness } from './cliHarness.js';

// tinygpt train --init-from DIR: fine-tuning from a tinygpt checkpoint or a Hugging Face GPT-2 folder.
const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-initfrom-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const backend = process.env.TINYGPT_BACKEND ?? 'cpu';
const corpus = join(scratch, 'corpus.txt');
writeFileSync(corpus, 'the theme then the thesis. '.repeat(40));
const small = ['--backend', backend, '--batch-size', '4', '--eval-iters', '2'];
const cli = cliHarness();
const run = (...argv: string[]) => {
  cli.errors.length = 0;
  return cli.run(...argv);
};
const json = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;

describe('tinygpt train --init-from', () => {
  it('fine-tunes a tinygpt checkpoint: its weights and tokenizer, a fresh optimizer, shape flags rejected', async () => {
    const base = join(scratch, 'base');
    const shape = ['--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16'];
    expect((await run('train', '--data', corpus, '--out', base, ...shape, ...small, '--max-iters', '20', '--eval-interval', '20')).code).toBe(0);
    const baseLoss = (json(join(base, 'ckpt', 'trainer.json')).lastEval as { val: number }).val;
    const tuned = join(scratch, 'tuned');
    const r = await run('train', '--init-from', base, '--data', corpus, '--out', tuned, ...small, '--max-iters', '1', '--eval-interval', '1');
    expect(r.code).toBe(0);
    // The config and tokenizer come from the base, and one step from its weights stays near its loss
    // (a fresh model of this vocabulary starts near ln 11 ≈ 2.4).
    expect(json(join(tuned, 'ckpt', 'config.json'))).toEqual(json(join(base, 'ckpt', 'config.json')));
    expect(json(join(tuned, 'ckpt', 'tokenizer.json'))).toEqual(json(join(base, 'ckpt', 'tokenizer.json')));
    const val = (json(join(tuned, 'ckpt', 'trainer.json')).lastEval as { val: number }).val;
    expect(Math.abs(val - baseLoss)).toBeLessThan(0.1);
    const opt = await readSafetensors(join(tuned, 'ckpt', 'optimizer.safetensors'));
    expect(opt.metadata.step).toBe('1'); // AdamW started fresh: 1 update, not 21
    // --resume of the fine-tuning run still resumes it.
    expect((await run('train', '--data', corpus, '--out', tuned, ...small, '--resume', '--max-iters', '2', '--eval-interval', '1')).code).toBe(0);
    expect((json(join(tuned, 'ckpt', 'trainer.json')).state as { step: number }).step).toBe(2);

    let bad = await run('train', '--init-from', base, '--data', corpus, '--out', join(scratch, 't2'), ...small, '--n-layer', '2');
    expect(bad.err).toMatch(/tinygpt train: --init-from .*base\/ckpt cannot take nLayer \(--n-layer\) 2 \(it has 1\): the model's shape is fixed; drop those flags: the shape comes from the folder\./);
    bad = await run('train', '--init-from', base, '--data', corpus, '--out', join(scratch, 't3'), ...small, '--tokenizer', 'bpe');
    expect(bad.err).toMatch(/--tokenizer and --vocab-size do not apply with --init-from: the tokenizer comes from the folder\./);
    const other = join(scratch, 'other.txt');
    writeFileSync(other, 'The Theme, then. '.repeat(40));
    bad = await run('train', '--init-from', base, '--data', other, '--out', join(scratch, 't4'), ...small, '--max-iters', '1');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/the corpus has characters that the --init-from model's character vocabulary \(.*base\/ckpt\) lacks: "T", ","; remove them from the text, or train a new model\./);
    bad = await run('train', '--init-from', join(scratch, 'nope'), '--data', corpus, '--out', join(scratch, 't5'), ...small);
    expect(bad.err).toMatch(/--init-from .*nope does not exist: pass a tinygpt training folder \(--out\) or a Hugging Face GPT-2 folder\./);
  });

  it('fine-tunes a Hugging Face GPT-2 folder (config.json, model.safetensors, vocab.json, merges.txt)', async () => {
    const hf = join(scratch, 'hf');
    // A byte-level BPE with two merges, "t h" → "th" (256) and "th e" → "the" (257): 258 tokens.
    const alphabet = gpt2ByteToChar();
    const vocab: Record<string, number> = Object.fromEntries(alphabet.map((c, b) => [c, b]));
    vocab.th = 256;
    vocab.the = 257;
    const model = new GPT({ vocabSize: 258, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, seed: 5 });
    await savePretrained(model, hf, 'hf-gpt2');
    model.dispose();
    writeFileSync(join(hf, 'vocab.json'), JSON.stringify(vocab));
    writeFileSync(join(hf, 'merges.txt'), '#version: 0.2\nt h\nth e\n');
    const out = join(scratch, 'hf-tuned');
    // A learning rate of 1e-9: two AdamW steps move each weight by about 2e-9, so the result must be the folder's weights.
    const r = await run('train', '--init-from', hf, '--data', corpus, '--out', out, ...small, '--max-iters', '2', '--eval-interval', '2', '--lr', '1e-9', '--min-lr', '0');
    expect(r.code).toBe(0);
    const src = (await readSafetensors(join(hf, 'model.safetensors'))).tensors;
    const got = (await readSafetensors(join(out, 'ckpt', 'model.safetensors'))).tensors;
    const wte = (m: typeof src) => (m.get('wte.weight') ?? m.get('transformer.wte.weight'))!.data;
    const a = wte(src);
    const b = wte(got);
    expect(b.length).toBe(258 * 16);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    expect(maxDiff).toBeLessThan(1e-6);
    const config = json(join(out, 'ckpt', 'config.json'));
    expect(config).toMatchObject({ vocabSize: 258, nLayer: 1, nEmbd: 16, blockSize: 16 });
    const tok = json(join(out, 'ckpt', 'tokenizer.json'));
    expect(tok.type).toBe('tinygpt-bpe');
    // The fine-tuned checkpoint samples like any other.
    cli.out.length = 0;
    const s = await run('sample', '--checkpoint', out, '--prompt', 'the', '--max-new-tokens', '4', '--temperature', '0', '--backend', backend);
    expect(s.code).toBe(0);
    const bad = await run('train', '--init-from', hf, '--data', corpus, '--out', join(scratch, 'hf2'), ...small, '--n-embd', '32');
    expect(bad.err).toMatch(/--init-from .*hf cannot take nEmbd \(--n-embd\) 32 \(it has 16\)/);
  });
});
