import { mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cp, rename, truncate, writeFile } from 'node:fs/promises';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { recoverCheckpoint } from '../src/io/checkpointRecover.js';
import { verifyCheckpointFolder } from '../src/io/checkpointManifest.js';

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

describe('recoverCheckpoint', () => {
  const weightOf = async (dir: string) => Array.from((await loadCheckpoint(dir)).weights.get('w')!.data);

  it('promotes a complete temp copy newer than ckpt (a kill before the first rename) and removes the rest', async () => {
    await save(1);
    await cp(ck, `${ck}.keep`, { recursive: true });
    await save(2); // ck holds 2; put 1 back at ck and 2 where an unfinished swap leaves it
    await rename(ck, `${ck}.tmp-99-1`);
    await rename(`${ck}.keep`, ck);
    await cp(ck, `${ck}.old-99-2`, { recursive: true }); // an older leftover
    const r = await recoverCheckpoint(ck);
    expect(r.promoted).toBe(`${ck}.tmp-99-1`);
    expect(await weightOf(ck)).toEqual([2]);
    expect((await readdir(root)).sort()).toEqual(['ck']);
  });

  it('never promotes a copy its manifest does not prove whole, and deletes nothing while ckpt is missing', async () => {
    await save(1);
    await save(2);
    await cp(ck, `${ck}.tmp-99-1`, { recursive: true });
    await truncate(path.join(`${ck}.tmp-99-1`, 'model.safetensors'), 10); // cut short: a crash mid-write
    expect(await verifyCheckpointFolder(`${ck}.tmp-99-1`)).toEqual({ ok: false, why: expect.stringMatching(/model\.safetensors has 10 bytes, the manifest says \d+/) });
    let r = await recoverCheckpoint(ck);
    expect(r.promoted).toBeUndefined();
    expect(await weightOf(ck)).toEqual([2]);
    expect(await readdir(root)).toEqual(['ck']); // the torn copy was removed: ck is whole

    // Only an unverifiable copy and no ckpt/ (e.g. a save from an older tinygpt): it is left for the user.
    await rename(ck, `${ck}.old-99-3`);
    await writeFile(path.join(`${ck}.old-99-3`, 'manifest.json'), '{');
    r = await recoverCheckpoint(ck);
    expect(r).toEqual({ removed: [] });
    expect(await readdir(root)).toEqual(['ck.old-99-3']);
  });
});
