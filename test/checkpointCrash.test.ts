import { mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';

// Lets a test make the Nth file write fail, as a full disk or an I/O error would.
const failure = vi.hoisted(() => ({ onFile: '' }));
vi.mock('../src/io/atomicWrite.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/io/atomicWrite.js')>();
  return {
    ...real,
    writeDurable: async (file: string, data: Uint8Array | string) => {
      if (failure.onFile !== '' && path.basename(file) === failure.onFile) throw new Error('ENOSPC: simulated disk full');
      await real.writeDurable(file, data);
    },
  };
});

let root: string;
let ck: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tinygpt-ckc-'));
  ck = path.join(root, 'ck');
  failure.onFile = '';
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const save = (value: number, trainer = true) =>
  saveCheckpoint(ck, {
    config: { vocabSize: 3 },
    weights: new Map([['w', { shape: [1], data: new Float32Array([value]) }]]),
    tokenizer: { chars: 'abc' },
    ...(trainer ? { trainer: { step: value } } : {}),
  });

describe('saveCheckpoint under write failures', () => {
  it('keeps the previous checkpoint whole when a file write fails midway', async () => {
    await save(1);
    for (const onFile of ['model.safetensors', 'trainer.json']) {
      failure.onFile = onFile;
      await expect(save(2)).rejects.toThrow(/simulated disk full/);
      const loaded = await loadCheckpoint(ck);
      expect(Array.from(loaded.weights.get('w')!.data)).toEqual([1]); // old weights
      expect(loaded.trainer).toEqual({ step: 1 }); // and the matching old trainer state
      expect(await readdir(root)).toEqual(['ck']); // the temp folder was cleaned up
    }
  });

  it('creates nothing when the very first save fails', async () => {
    failure.onFile = 'tokenizer.json';
    await expect(save(1, false)).rejects.toThrow(/simulated disk full/);
    expect(await readdir(root)).toEqual([]);
    failure.onFile = '';
    await save(1, false);
    expect((await loadCheckpoint(ck)).trainer).toBeUndefined();
  });
});
