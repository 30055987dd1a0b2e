import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { TextDataset } from '../src/data/dataset.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { GPT } from '../src/model/gpt.js';
import { loadTrained } from '../src/pretrained/loadTrained.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { applyLoRA, loraWeights } from '../src/train/lora.js';
import { trainOnText, type TrainSessionOptions } from '../src/train/session.js';
import { Trainer } from '../src/train/trainer.js';
import { cliHarness } from './cliHarness.js';
import { maxDiff, take } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-train-lora-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const TEXT = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
const tok = CharTokenizer.fromText(TEXT);
const shape = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, seed: 3 };
const lora = { rank: 2, alpha: 4, targets: ['q_proj', 'k_proj', 'v_proj', 'c_fc'] };

const snapshot = (ws: Map<string, tf.Variable>): Map<string, Float32Array> =>
  new Map([...ws].map(([n, v]) => [n, Float32Array.from(v.dataSync())]));

function logits(model: GPT): number[] {
  const x = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
  const out = take(model.forward(x));
  x.dispose();
  return out;
}

describe('Trainer with LoRA adapters', () => {
  it('trains only the adapters (base bit-identical), lowers the loss, stays on one thread and leaks no tensor', async () => {
    const model = new GPT({ ...shape, vocabSize: tok.vocabSize });
    applyLoRA(model, lora);
    const base = snapshot(model.namedWeights());
    const adapters = snapshot(loraWeights(model));
    const before = tf.memory().numTensors;
    const data = new TextDataset(tok.encode(TEXT), { copy: false });
    // workers 2 would replicate the plain model; with adapters the run stays on this thread. The base is
    // random and frozen, so the adapters lower the loss from ln 27 ≈ 3.30 only a little (≈ 0.09 here).
    const trainer = new Trainer(model, data, {
      batchSize: 4,
      blockSize: 16,
      maxIters: 40,
      lr: 5e-2,
      warmupIters: 0,
      logInterval: 1,
      evalInterval: 40,
      evalIters: 1,
      gradAccumSteps: 2,
      workers: 2,
    });
    expect(trainer.subset).toBe(true);
    const losses: number[] = [];
    await trainer.train((r) => void (r.kind === 'step' && losses.push(r.loss)));
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.05);
    for (const [n, v] of model.namedWeights()) expect(Float32Array.from(v.dataSync()), n).toEqual(base.get(n));
    const changed = [...loraWeights(model)].filter(([n, v]) => maxDiff([...v.dataSync()], [...adapters.get(n)!]) > 0);
    expect(changed.map(([n]) => n).filter((n) => n.includes('lora_B'))).toHaveLength(4); // every B left 0
    model.dispose();
  });
});

describe('trainOnText with lora', () => {
  const quiet = { progress: false as const, notify: false as const };
  const train = {
    batchSize: 4,
    blockSize: 16,
    evalInterval: 5,
    evalIters: 2,
    logInterval: 1,
    lr: 1e-2,
    lrDecayIters: 10,
    warmupIters: 2,
  };
  const opts = (outDir: string, extra: Partial<TrainSessionOptions>): TrainSessionOptions => ({
    ...quiet,
    text: TEXT,
    outDir,
    tokenizer: tok,
    model: shape,
    train: { ...train, maxIters: 10 },
    lora,
    ...extra,
  });
  const stepLosses = async (o: TrainSessionOptions): Promise<{ losses: number[]; model: GPT }> => {
    const losses: number[] = [];
    const r = await trainOnText({ ...o, onRecord: (x) => void (x.kind === 'step' && losses.push(x.loss)) });
    return { losses, model: r.model };
  };

  it('checkpoints the frozen base, the adapters and their moments; a resumed run reproduces the losses', async () => {
    const whole = await stepLosses(opts(join(scratch, 'whole'), {}));
    const half = join(scratch, 'half');
    const first = await stepLosses(opts(half, { train: { ...train, maxIters: 5 } }));
    first.model.dispose();
    const lines: string[] = [];
    const rest = await stepLosses(
      opts(half, { resume: true, lora: undefined, train: { maxIters: 10 }, notify: (l) => lines.push(l) }),
    );
    expect([...first.losses, ...rest.losses]).toEqual(whole.losses);
    expect(lines.join('\n')).toMatch(
      /^LoRA: 4 adapters \(rank 2, alpha 4, targets [a-z_,]+\), \d+ trainable parameters of \d+ \(base frozen\)/m,
    );
    // The checkpoint's base is the untouched initial model; its adapters are the trained ones.
    const fresh = new GPT({ ...shape, vocabSize: tok.vocabSize });
    const { tensors } = await readSafetensors(join(half, 'ckpt', 'model.safetensors'));
    for (const [n, v] of fresh.namedWeights()) expect(tensors.get(n)!.data, n).toEqual(Float32Array.from(v.dataSync()));
    fresh.dispose();
    const ckptAdapters = (await readSafetensors(join(half, 'ckpt', 'adapter_model.safetensors'))).tensors;
    for (const [n, v] of loraWeights(rest.model)) expect(ckptAdapters.get(n)!.data, n).toEqual(Float32Array.from(v.dataSync()));
    expect(existsSync(join(half, 'adapter_model.safetensors'))).toBe(true);
    const peft = JSON.parse(readFileSync(join(half, 'adapter_config.json'), 'utf8'));
    expect(peft).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      lora_dropout: 0,
      bias: 'none',
      fan_in_fan_out: true,
    });
    // Loading the run folder gives the merged model: the same logits as base + adapters.
    const merged = await loadTrained(half);
    expect(maxDiff(logits(merged.model), logits(rest.model))).toBeLessThan(1e-5);
    for (const m of [merged.model, rest.model, whole.model]) m.dispose();
  });

  it('keeps base_model_name_or_path of an --init-from run across a resume', async () => {
    const out = join(scratch, 'based');
    const init = { dir: 'runs/base', model: new GPT({ ...shape, vocabSize: tok.vocabSize }), tokenizer: tok };
    (await trainOnText(opts(out, { init, train: { ...train, maxIters: 5 } }))).model.dispose();
    const baseOf = () => JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')).base_model_name_or_path;
    expect(baseOf()).toBe('runs/base');
    (await trainOnText(opts(out, { resume: true, lora: undefined, train: { maxIters: 10 } }))).model.dispose();
    expect(baseOf()).toBe('runs/base');
  });

  it('refuses LoRA settings a resumed run does not have, naming both', async () => {
    const out = join(scratch, 'other');
    (await trainOnText(opts(out, { train: { ...train, maxIters: 5 } }))).model.dispose();
    await expect(trainOnText(opts(out, { resume: true, lora: { ...lora, rank: 4 }, train: {} }))).rejects.toThrow(
      /the run's LoRA is rank 2, alpha 4, dropout 0, targets [a-z_,]+; the --lora-\* flags ask for others/,
    );
    const plain = join(scratch, 'plain');
    (await trainOnText(opts(plain, { lora: undefined, train: { ...train, maxIters: 5 } }))).model.dispose();
    await expect(trainOnText(opts(plain, { resume: true, train: {} }))).rejects.toThrow(
      /that run trains every weight, so LoRA cannot start mid-run/,
    );
  });
});

describe('tinygpt train --lora-rank', () => {
  const cli = cliHarness();
  it('trains adapters from the command line and writes the PEFT files', async () => {
    const corpus = join(scratch, 'corpus.txt');
    writeFileSync(corpus, TEXT);
    const out = join(scratch, 'cli');
    const backend = process.env.TINYGPT_BACKEND ?? 'cpu';
    const tiny = [
      '--n-layer',
      '1',
      '--n-head',
      '2',
      '--n-embd',
      '16',
      '--block-size',
      '16',
      '--batch-size',
      '2',
      '--eval-iters',
      '1',
    ];
    const r = await cli.run(
      'train',
      '--data',
      corpus,
      '--out',
      out,
      '--backend',
      backend,
      ...tiny,
      '--max-iters',
      '2',
      '--lora-rank',
      '2',
      '--lora-alpha',
      '4',
      '--lora-targets',
      'c_attn,c_fc',
      '--workers',
      '2',
      '--grad-accum',
      '2',
    );
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/LoRA: 2 adapters .*\(base frozen\); workers: 1 \(data-parallel replicas hold the base model only/);
    expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({ r: 2, lora_alpha: 4 });
    expect(existsSync(join(out, 'ckpt', 'adapter_model.safetensors'))).toBe(true);
    const bad = await cli.run('train', '--data', corpus, '--out', join(scratch, 'bad'), '--lora-alpha', '4');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--lora-alpha, --lora-targets and --lora-dropout need --lora-rank R/);
    const typo = await cli.run(
      'train',
      '--data',
      corpus,
      '--out',
      join(scratch, 'typo'),
      '--backend',
      backend,
      ...tiny,
      '--lora-rank',
      '2',
      '--lora-targets',
      'qkv',
    );
    expect(typo.code).not.toBe(0);
    expect(typo.err).toMatch(/LoRA: unknown LoRA target "qkv"; choose from q_proj/);
  });
});
