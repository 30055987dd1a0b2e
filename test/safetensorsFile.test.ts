import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { recordToTensors, tensorsToRecord } from '../src/io/tensorRecord.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tinygpt-st-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readSafetensors / writeSafetensors', () => {
  it('round-trips through a file, replaces it atomically and leaves no temp files', async () => {
    const file = path.join(dir, 'w.safetensors');
    await writeSafetensors(file, { a: { shape: [2], data: new Float32Array([1.25, -3]) } }, { k: 'v' });
    await writeSafetensors(file, new Map([['b', { shape: [1, 1], data: new Float32Array([7]) }]]));
    const { tensors, metadata } = await readSafetensors(file);
    expect(metadata).toEqual({});
    expect([...tensors.keys()]).toEqual(['b']); // the second write replaced the first
    expect(tensors.get('b')!.shape).toEqual([1, 1]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([7]);
    expect(await readdir(dir)).toEqual(['w.safetensors']);
  });

  it('names the path when the file is missing or corrupt', async () => {
    const missing = path.join(dir, 'nope.safetensors');
    await expect(readSafetensors(missing)).rejects.toThrow(`${missing}: cannot read safetensors file (no such file).`);
    const short = path.join(dir, 'short.safetensors');
    await writeFile(short, new Uint8Array([1, 2, 3]));
    await expect(readSafetensors(short)).rejects.toThrow(`${short}: file is 3 bytes, shorter than the 8-byte`);
  });

  it('leaves the old file and no temp file when the tensors are invalid', async () => {
    const file = path.join(dir, 'w.safetensors');
    await writeSafetensors(file, { a: { shape: [1], data: new Float32Array([5]) } });
    await expect(writeSafetensors(file, { a: { shape: [2], data: new Float32Array([5]) } })).rejects.toThrow(
      /w\.safetensors: cannot write tensor "a": shape \[2\] has 2 elements but data has 1/,
    );
    expect(Array.from((await readSafetensors(file)).tensors.get('a')!.data)).toEqual([5]);
    expect(await readdir(dir)).toEqual(['w.safetensors']);
  });
});

describe('tensorsToRecord / recordToTensors', () => {
  it('copies tensor values out without allocating tensors', async () => {
    const w = tf.tensor2d([[1, 2, 3], [4, 5, 6]]); // (2, 3)
    const ids = tf.tensor1d([3, -1], 'int32'); // (2,)
    const before = tf.memory().numTensors;
    const rec = await tensorsToRecord(new Map<string, tf.Tensor>([['w', w], ['ids', ids]]));
    expect(tf.memory().numTensors).toBe(before);
    expect(rec.get('w')!.shape).toEqual([2, 3]);
    expect(rec.get('w')!.data).toBeInstanceOf(Float32Array);
    expect(Array.from(rec.get('w')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rec.get('ids')!.data).toBeInstanceOf(Int32Array);
    rec.get('w')!.data[0] = 99; // the record is a copy: the tensor must not change
    expect(Array.from(await w.data())).toEqual([1, 2, 3, 4, 5, 6]);
    w.dispose();
    ids.dispose();
  });

  it('rejects bool and disposed tensors', async () => {
    const b = tf.tensor1d([1, 0], 'bool'); // (2,)
    await expect(tensorsToRecord(new Map([['b', b]]))).rejects.toThrow(/tensor "b" has dtype bool; cast it/);
    b.dispose();
    await expect(tensorsToRecord(new Map([['b', b]]))).rejects.toThrow(/tensor "b" is already disposed/);
  });

  it('builds caller-owned tensors from copies, allocating nothing on bad input', async () => {
    const before = tf.memory().numTensors;
    const data = new Float32Array([1, 2, 3, 4]);
    const tensors = recordToTensors(new Map([
      ['w', { shape: [2, 2], data }],
      ['ids', { shape: [1], data: new Int32Array([9]) }],
    ]));
    expect(tf.memory().numTensors).toBe(before + 2);
    data[0] = -1; // must not reach the tensor
    expect(tensors.get('w')!.shape).toEqual([2, 2]);
    expect(Array.from(await tensors.get('w')!.data())).toEqual([1, 2, 3, 4]);
    expect(tensors.get('ids')!.dtype).toBe('int32');
    for (const t of tensors.values()) t.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const bad = new Map([
      ['ok', { shape: [1], data: new Float32Array(1) }],
      ['w', { shape: [3], data: new Float32Array(2) }],
    ]);
    expect(() => recordToTensors(bad)).toThrow(/tensor "w": shape \[3\] has 3 elements but data has 2/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
