import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { trainOnText } from '../src/train/session.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { GPT } from '../src/model/gpt.js';

// A full disk at a chosen save: writeDurable fails the way Node's write does (code ENOSPC).
const disk = vi.hoisted(() => ({ full: false }));
vi.mock('../src/io/atomicWrite.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/io/atomicWrite.js')>();
  return {
    ...real,
    writeDurable: async (file: string, data: Uint8Array | string) => {
      if (disk.full && path.basename(file) === 'model.safetensors') {
        throw real.fileWriteError(file, Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
      }
      await real.writeDurable(file, data);
    },
  };
});

const scratch = mkdtempSync(path.join(tmpdir(), 'tinygpt-session-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const TEXT = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
const model = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, seed: 3 };
const train = { batchSize: 4, blockSize: 16, evalInterval: 5, evalIters: 2, maxIters: 10 };
const quiet = { progress: false as const, notify: false as const };

describe('trainOnText on a full disk', () => {
  it('names the file, says the last checkpoint survived, and that checkpoint still loads', async () => {
    const outDir = path.join(scratch, 'full');
    disk.full = false;
    const run = trainOnText({
      ...quiet, text: TEXT, outDir, makeTokenizer: (t) => CharTokenizer.fromText(t), model, train,
      onRecord: (r) => { if (r.kind === 'eval' && r.step === 5) disk.full = true; },
    });
    const ckpt = path.join(outDir, 'ckpt');
    await expect(run).rejects.toThrow(
      new RegExp(`^saving the checkpoint of step 10 failed: cannot write ${ckpt}\\.tmp-\\d+-\\d+/model\\.safetensors: ` +
        `the disk is full \\(ENOSPC\\); free some space; the last checkpoint \\(step 5\\) in ${ckpt} is intact\\.$`),
    );
    disk.full = false;
    const ck = await loadCheckpoint(ckpt);
    expect((ck.trainer as { state: { step: number } }).state.step).toBe(5);
    expect(readdirSync(outDir).sort()).toEqual(['ckpt', 'metrics.jsonl']); // temp folder and lock cleaned up
  });
});

describe('corpus checks before training', () => {
  it('rejects a val split shorter than blockSize + 1 before the first step, naming the split and the fix', async () => {
    // 150 characters: train = first 135, val = last 15 < 17 = blockSize + 1.
    const text = 'abcdefghij'.repeat(15);
    const onRecord = vi.fn();
    const outDir = path.join(scratch, 'short-val');
    await expect(trainOnText({ ...quiet, text, outDir, makeTokenizer: (t) => CharTokenizer.fromText(t), model, train, onRecord }))
      .rejects.toThrow('The val split has 15 tokens, but blockSize 16 needs at least 17 (blockSize + 1, for the shifted targets): ' +
        'use a blockSize of 14 or less (--block-size), or a longer text (the last 10% of the corpus is the val split).');
    expect(onRecord).not.toHaveBeenCalled(); // before: this surfaced only at the first evaluation, after training
    expect(existsSync(path.join(outDir, 'metrics.jsonl'))).toBe(false);
  });

  it('reads a corpus file as a stream with the same result as the text in memory', async () => {
    const file = path.join(scratch, 'corpus.txt');
    writeFileSync(file, TEXT);
    const a = await trainOnText({ ...quiet, text: TEXT, outDir: path.join(scratch, 'mem'), makeTokenizer: (t) => CharTokenizer.fromText(t), model, train: { ...train, maxIters: 3 } });
    const b = await trainOnText({ ...quiet, dataPath: file, outDir: path.join(scratch, 'file'), tokenizer: CharTokenizer.fromText(TEXT), model, train: { ...train, maxIters: 3 } });
    expect(b.lastEval!.val).toBe(a.lastEval!.val);
    a.model.dispose();
    b.model.dispose();
  });
});

describe('trainOnText with an initial model (fine-tuning)', () => {
  it('starts from the given weights with a fresh optimizer, and rejects shape changes and foreign characters', async () => {
    const before = tf.memory().numTensors;
    const base = await trainOnText({ ...quiet, text: TEXT, outDir: path.join(scratch, 'base'), makeTokenizer: (t) => CharTokenizer.fromText(t), model, train });
    // A copy of the trained model, as --init-from loads it.
    const init = new GPT(base.model.config);
    for (const [name, v] of init.namedWeights()) v.assign(base.model.namedWeights().get(name)!);
    const baseVal = base.lastEval!.val;
    base.model.dispose();
    const evals: number[] = [];
    const tuned = await trainOnText({
      ...quiet, text: TEXT, outDir: path.join(scratch, 'tuned'), model: {}, train: { ...train, maxIters: 1, evalInterval: 1 },
      init: { model: init, tokenizer: base.tokenizer, dir: 'base' },
      onRecord: (r) => { if (r.kind === 'eval') evals.push(r.val); },
    });
    // One small step from the trained weights stays near their loss; a fresh model would be near ln 12 ≈ 2.48.
    expect(Math.abs(evals[0] - baseVal)).toBeLessThan(0.1);
    const ck = await loadCheckpoint(tuned.checkpointDir);
    expect(ck.optimizer!.step).toBe(1); // fresh AdamW: 1 update, not 10 + 1
    expect((ck.trainer as { state: { step: number } }).state.step).toBe(1);
    expect(tuned.model).toBe(init); // the Trainer trained the very model it was given
    tuned.model.dispose();
    expect(tf.memory().numTensors).toBe(before); // nothing left behind

    const again = new GPT({ ...model, vocabSize: base.tokenizer.vocabSize });
    await expect(trainOnText({ ...quiet, text: TEXT, outDir: path.join(scratch, 'tuned2'), model: { nLayer: 2 }, train, init: { model: again, tokenizer: base.tokenizer, dir: 'base' } }))
      .rejects.toThrow(/--init-from base cannot take nLayer \(--n-layer\) 2 \(it has 1\): the model's shape is fixed; drop those flags: the shape comes from the folder\./);
    const other = new GPT({ ...model, vocabSize: base.tokenizer.vocabSize });
    await expect(trainOnText({ ...quiet, text: `${TEXT}Zebra!`, outDir: path.join(scratch, 'tuned3'), model: {}, train, init: { model: other, tokenizer: base.tokenizer, dir: 'base' } }))
      .rejects.toThrow(/the corpus has characters that the --init-from model's character vocabulary \(base\) lacks: "Z", "!"; remove them from the text, or train a new model\./);
    expect(tf.memory().numTensors).toBe(before); // the session disposed the models it was given, even on errors
  });
});

describe('resume with a config.json that lies about the weights', () => {
  it('names the mismatch before allocating the model', async () => {
    const outDir = path.join(scratch, 'lying');
    await trainOnText({ ...quiet, text: TEXT, outDir, makeTokenizer: (t) => CharTokenizer.fromText(t), model, train: { ...train, maxIters: 5 } });
    const cfgFile = path.join(outDir, 'ckpt', 'config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    // 64 layers of width 4096 would be ~13 GB of float32: the check must come before that allocation.
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, nEmbd: 4096, nLayer: 64, headDim: 2048 }));
    const before = tf.memory().numTensors;
    await expect(trainOnText({ ...quiet, text: TEXT, outDir, resume: true, makeTokenizer: (t) => CharTokenizer.fromText(t), model: {}, train: { maxIters: 10 } }))
      .rejects.toThrow(/model\.safetensors does not fit the model config: missing h\.1\.ln_1\.weight.*wrong shape wte\.weight: file \[\d+,16\] vs model \[\d+,4096\]/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
