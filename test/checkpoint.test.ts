import * as tf from '@tensorflow/tfjs-core';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { createRng } from '../src/util/rng.js';

let root: string;
let ck: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tinygpt-ck-'));
  ck = path.join(root, 'ck');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const config = { vocabSize: 65, nLayer: 2, activation: 'gelu', bias: true };
const tokenizer = { type: 'char', chars: 'ab\n' };

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips every part exactly, leaving no temp files or tensors', async () => {
    const wte = tf.tensor2d([[0.1, -0.2], [1e-8, 3]]); // (2, 2)
    const bias = tf.tensor1d([-0, 5.5]); // (2,)
    const rng = createRng(3);
    rng.normal(); // leaves a spare normal in the state, which must survive JSON
    const trainer = { step: 40, rng: rng.state(), options: { lr: 3e-4 }, bestValLoss: 1.875 };
    const optimizer = {
      step: 40,
      m: new Map([['wte', new Float32Array([1, 2, 3, 4])], ['bias', new Float32Array([0.5, -0.5])]]),
      v: new Map([['wte', new Float32Array([5, 6, 7, 8])], ['bias', new Float32Array([0.25, 0.125])]]),
    };
    const before = tf.memory().numTensors;
    await saveCheckpoint(ck, {
      config,
      weights: new Map<string, tf.Tensor>([['wte', wte], ['bias', bias]]),
      tokenizer,
      optimizer,
      trainer,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(await readdir(root)).toEqual(['ck']);
    expect((await readdir(ck)).sort()).toEqual(
      ['config.json', 'manifest.json', 'model.safetensors', 'optimizer.safetensors', 'tokenizer.json', 'trainer.json'],
    );

    const loaded = await loadCheckpoint(ck);
    expect(tf.memory().numTensors).toBe(before);
    expect(loaded.config).toEqual(config);
    expect(loaded.tokenizer).toEqual(tokenizer);
    expect(loaded.trainer).toEqual(trainer);
    const restored = createRng(0, loaded.trainer!.rng as ReturnType<typeof rng.state>);
    expect(restored.normal()).toBe(rng.normal()); // the spare normal came back
    expect([...loaded.weights.keys()].sort()).toEqual(['bias', 'wte']);
    expect(loaded.weights.get('wte')!.shape).toEqual([2, 2]);
    expect(Array.from(loaded.weights.get('wte')!.data)).toEqual([0.1, -0.2, 1e-8, 3].map(Math.fround));
    expect(Object.is(loaded.weights.get('bias')!.data[0], -0)).toBe(true);
    expect(loaded.optimizer!.step).toBe(40);
    expect(Array.from(loaded.optimizer!.m.get('wte')!)).toEqual([1, 2, 3, 4]);
    expect(Array.from(loaded.optimizer!.v.get('bias')!)).toEqual([0.25, 0.125]);
    // Moments are stored shaped like their weights, with the step in the metadata.
    const opt = await readSafetensors(path.join(ck, 'optimizer.safetensors'));
    expect(opt.metadata).toEqual({ step: '40' });
    expect(opt.tensors.get('m.wte')!.shape).toEqual([2, 2]);
    wte.dispose();
    bias.dispose();
  });

  it('accepts loaded records back and overwrites a checkpoint completely', async () => {
    const w = tf.tensor1d([1, 2, 3]); // (3,)
    const opt = { step: 1, m: new Map([['w', new Float32Array(3)]]), v: new Map([['w', new Float32Array(3)]]) };
    await saveCheckpoint(ck, { config, weights: new Map([['w', w]]), tokenizer, optimizer: opt, trainer: { step: 1 } });
    w.dispose();
    const first = await loadCheckpoint(ck);
    const weights = new Map([['w', { shape: [3], data: new Float32Array([7, 8, 9]) }]]);
    await saveCheckpoint(ck, { config: first.config, weights, tokenizer: first.tokenizer });
    const second = await loadCheckpoint(ck);
    expect(Array.from(second.weights.get('w')!.data)).toEqual([7, 8, 9]);
    // The new save had no optimizer or trainer, so the old ones must be gone, not mixed in.
    expect(second.optimizer).toBeUndefined();
    expect(second.trainer).toBeUndefined();
    expect((await readdir(ck)).sort()).toEqual(['config.json', 'manifest.json', 'model.safetensors', 'tokenizer.json']);
    expect(await readdir(root)).toEqual(['ck']);
  });

  it('keeps the previous checkpoint when a save fails on bad input', async () => {
    const weights = new Map([['w', { shape: [1], data: new Float32Array([4]) }]]);
    await saveCheckpoint(ck, { config, weights, tokenizer, trainer: { step: 1, bestValLoss: 2 } });
    await expect(
      saveCheckpoint(ck, { config, weights, tokenizer, trainer: { step: 2, bestValLoss: Infinity } }),
    ).rejects.toThrow(/trainer\.json key "bestValLoss" is Infinity, which JSON cannot represent/);
    const badOpt = { step: 2, m: new Map([['w', new Float32Array(1)]]), v: new Map<string, Float32Array>() };
    await expect(saveCheckpoint(ck, { config, weights, tokenizer, optimizer: badOpt })).rejects.toThrow(
      /optimizer\.m has "w" but optimizer\.v does not/,
    );
    const wrongSize = { step: 2, m: new Map([['w', new Float32Array(2)]]), v: new Map([['w', new Float32Array(2)]]) };
    await expect(saveCheckpoint(ck, { config, weights, tokenizer, optimizer: wrongSize })).rejects.toThrow(
      /optimizer\.m of "w" has 2 values but the weight has shape \[1\]/,
    );
    expect((await loadCheckpoint(ck)).trainer).toEqual({ step: 1, bestValLoss: 2 });
    expect(await readdir(root)).toEqual(['ck']);
  });

  it('refuses to replace a folder that holds other files', async () => {
    await mkdir(ck);
    await writeFile(path.join(ck, 'notes.txt'), 'mine');
    const weights = new Map([['w', { shape: [1], data: new Float32Array(1) }]]);
    await expect(saveCheckpoint(ck, { config, weights, tokenizer })).rejects.toThrow(
      /holds files that are not part of a tinygpt checkpoint \(notes\.txt\); refusing to replace it/,
    );
    expect(await readdir(ck)).toEqual(['notes.txt']);
  });

  it('explains missing folders, missing files and malformed JSON', async () => {
    await expect(loadCheckpoint(ck)).rejects.toThrow(`${ck} is not a tinygpt checkpoint: the folder does not exist.`);
    await mkdir(ck);
    await expect(loadCheckpoint(ck)).rejects.toThrow(`${ck} is not a tinygpt checkpoint: config.json missing.`);
    await writeFile(path.join(ck, 'config.json'), '{"vocabSize": 65,');
    await expect(loadCheckpoint(ck)).rejects.toThrow(/config\.json: malformed JSON/);
    await writeFile(path.join(ck, 'config.json'), '[65]');
    await expect(loadCheckpoint(ck)).rejects.toThrow(/config\.json: expected a JSON object, got an array/);
    await writeFile(path.join(ck, 'config.json'), '{}');
    await writeFile(path.join(ck, 'tokenizer.json'), '{}');
    await expect(loadCheckpoint(ck)).rejects.toThrow(`checkpoint ${ck} is incomplete: model.safetensors missing.`);
    await writeFile(path.join(ck, 'model.safetensors'), new Uint8Array(4));
    await expect(loadCheckpoint(ck)).rejects.toThrow(/model\.safetensors: file is 4 bytes/);
  });

  it('points to the previous checkpoint when a save died between its two renames', async () => {
    const weights = new Map([['w', { shape: [1], data: new Float32Array(1) }]]);
    await saveCheckpoint(ck, { config, weights, tokenizer });
    await rename(ck, `${ck}.old-123-1`); // the state after the first rename of a swap
    await expect(loadCheckpoint(ck)).rejects.toThrow(/interrupted and left .*ck\.old-123-1: `tinygpt train --resume` \(or recoverCheckpoint\) restores/);
  });
});
