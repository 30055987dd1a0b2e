import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { TextDataset } from '../src/data/dataset.js';
import {
  ensureShakespeare,
  SHAKESPEARE_SHA256,
  SHAKESPEARE_URL,
  sha256Hex,
  type FetchLike,
} from '../src/data/shakespeare.js';
import { loadText } from '../src/data/text.js';
import { writeFileAtomic } from '../src/io/atomicWrite.js';
import { createRng } from '../src/util/rng.js';
import { HAVE_SHAKESPEARE, SHAKESPEARE_PATH as SHARED, warnIfNoShakespeare } from './corpus.js';

warnIfNoShakespeare('data.test.ts');

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-data-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let dirCount = 0;
/** A fresh empty folder per test, so tests cannot see each other's files. */
function freshDir(): string {
  const dir = join(scratch, `t${dirCount++}`);
  mkdirSync(dir);
  return dir;
}

/** A fake fetch that serves `bytes` (or fails) and counts calls. */
function fakeFetch(reply: Uint8Array | Error | number): FetchLike & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (url: string) => {
    calls.push(url);
    if (reply instanceof Error) throw reply;
    if (typeof reply === 'number') {
      return { ok: false, status: reply, statusText: 'Not Found', arrayBuffer: async () => new ArrayBuffer(0) };
    }
    const copy = reply.slice();
    return { ok: true, status: 200, statusText: 'OK', arrayBuffer: async () => copy.buffer };
  };
  return Object.assign(fn, { calls });
}

describe('ensureShakespeare', () => {
  // read when a test runs, not when the file is collected
  let bytes: Uint8Array | undefined;
  const good = (): Uint8Array => (bytes ??= new Uint8Array(readFileSync(SHARED)));

  it.skipIf(!HAVE_SHAKESPEARE)('verifies a local copy and copies it to dest', async () => {
    const dir = freshDir();
    const dest = join(dir, 'sub', 'tiny.txt');
    const fetch = fakeFetch(new Error('must not download'));
    expect(await ensureShakespeare({ path: SHARED, dest, fetch })).toBe(dest);
    expect(sha256Hex(readFileSync(dest))).toBe(SHAKESPEARE_SHA256);
    expect(fetch.calls).toEqual([]);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['tiny.txt']); // no temp file left behind
  });

  it('rejects a local copy with the wrong checksum, naming both digests', async () => {
    const dir = freshDir();
    const bad = join(dir, 'input.txt');
    writeFileSync(bad, 'To be, or not to be');
    const dest = join(dir, 'out.txt');
    const err = ensureShakespeare({ path: bad, dest });
    await expect(err).rejects.toThrow(`expected sha256 ${SHAKESPEARE_SHA256}, got ${sha256Hex(readFileSync(bad))}`);
    await expect(err).rejects.toThrow('load it with loadText instead');
    expect(existsSync(dest)).toBe(false);
    await expect(ensureShakespeare({ path: join(dir, 'nope.txt'), dest })).rejects.toThrow(
      `No file at ${join(dir, 'nope.txt')}`,
    );
  });

  it.skipIf(!HAVE_SHAKESPEARE)('downloads with the injected fetch and writes atomically', async () => {
    const dir = freshDir();
    const dest = join(dir, 'tiny.txt');
    const fetch = fakeFetch(good());
    expect(await ensureShakespeare({ dest, fetch })).toBe(dest);
    expect(fetch.calls).toEqual([SHAKESPEARE_URL]);
    expect(sha256Hex(readFileSync(dest))).toBe(SHAKESPEARE_SHA256);
    expect(readdirSync(dir)).toEqual(['tiny.txt']);
    // second call: the verified file is reused, no download
    expect(await ensureShakespeare({ dest, fetch })).toBe(dest);
    expect(fetch.calls.length).toBe(1);
  });

  it.skipIf(!HAVE_SHAKESPEARE)('refuses downloaded bytes with the wrong checksum and leaves nothing at dest', async () => {
    const dir = freshDir();
    const dest = join(dir, 'tiny.txt');
    const wrong = good().slice(0, 1000); // a truncated download
    const err = ensureShakespeare({ dest, fetch: fakeFetch(wrong) });
    await expect(err).rejects.toThrow(`expected sha256 ${SHAKESPEARE_SHA256}, got ${sha256Hex(wrong)}`);
    await expect(err).rejects.toThrow('--data PATH');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('explains network and HTTP failures and suggests a local copy', async () => {
    const dir = freshDir();
    const dest = join(dir, 'tiny.txt');
    const offline = ensureShakespeare({ dest, fetch: fakeFetch(new TypeError('fetch failed')) });
    await expect(offline).rejects.toThrow(`Could not download Tiny Shakespeare from ${SHAKESPEARE_URL} (fetch failed)`);
    await expect(offline).rejects.toThrow('pass it with --data PATH');
    await expect(ensureShakespeare({ dest, fetch: fakeFetch(404) })).rejects.toThrow('failed with HTTP 404 Not Found');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('will not overwrite an existing dest that is some other file', async () => {
    const dir = freshDir();
    const dest = join(dir, 'tiny.txt');
    writeFileSync(dest, 'my notes');
    const fetch = fakeFetch(new Uint8Array([1, 2, 3])); // never fetched: dest is refused first
    await expect(ensureShakespeare({ dest, fetch })).rejects.toThrow('Delete it to download a fresh copy');
    expect(fetch.calls).toEqual([]);
    expect(readFileSync(dest, 'utf8')).toBe('my notes');
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file', async () => {
    const dir = freshDir();
    const dest = join(dir, 'a.json');
    await writeFileAtomic(dest, '{"v":1}');
    await writeFileAtomic(dest, '{"v":2}');
    expect(readFileSync(dest, 'utf8')).toBe('{"v":2}');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });
});

describe('loadText', () => {
  it('reads UTF-8 text', async () => {
    const dir = freshDir();
    const file = join(dir, 'a.txt');
    writeFileSync(file, 'héllo 🎭\n');
    expect(await loadText(file)).toBe('héllo 🎭\n');
  });

  it.skipIf(!HAVE_SHAKESPEARE)('reads the whole of Tiny Shakespeare', async () => {
    expect((await loadText(SHARED)).length).toBe(1115394); // Tiny Shakespeare: 1,115,394 characters
  });

  it('gives clear errors for missing, empty, folder and non-UTF-8 inputs', async () => {
    const dir = freshDir();
    const missing = join(dir, 'missing.txt');
    await expect(loadText(missing)).rejects.toThrow(`Text file not found: ${missing}`);
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    await expect(loadText(empty)).rejects.toThrow(`Text file ${empty} is empty`);
    await expect(loadText(dir)).rejects.toThrow(`${dir} is a folder`);
    const latin1 = join(dir, 'latin1.txt');
    writeFileSync(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9])); // "café" in Latin-1: 0xE9 alone is invalid UTF-8
    await expect(loadText(latin1)).rejects.toThrow('is not valid UTF-8');
  });
});

describe('TextDataset', () => {
  // ids 0..99: every value equals its position, so a window's first id is its offset
  const ids = Int32Array.from({ length: 100 }, (_, i) => i);

  it('splits 90/10 with train first', () => {
    const ds = new TextDataset(ids);
    // floor(0.9 · 100) = 90 train tokens, 10 val tokens
    expect(ds.train.length).toBe(90);
    expect(ds.val.length).toBe(10);
    expect(ds.train[89]).toBe(89);
    expect(Array.from(ds.val)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    // 11 tokens: floor(0.9 · 11) = floor(9.9) = 9 train, 2 val
    const small = new TextDataset([5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5]);
    expect(small.train.length).toBe(9);
    expect(Array.from(small.val)).toEqual([4, 5]);
  });

  it('returns int32 (B, T) batches of windows at rng.nextInt offsets, y shifted by one', () => {
    const ds = new TextDataset(ids);
    const { x, y } = ds.getBatch('train', 4, 8, createRng(3));
    expect(x.shape).toEqual([4, 8]);
    expect(y.shape).toEqual([4, 8]);
    expect(x.dtype).toBe('int32');
    expect(y.dtype).toBe('int32');
    // replay the offsets: nextInt(90 − 8) = nextInt(82) keeps o + 8 ≤ 89, the last train index
    const r = createRng(3);
    const offsets = [0, 1, 2, 3].map(() => r.nextInt(82));
    const xs = x.arraySync();
    const ys = y.arraySync();
    offsets.forEach((o, b) => {
      expect(xs[b]).toEqual(Array.from(ds.train.subarray(o, o + 8)));
      expect(ys[b]).toEqual(Array.from(ds.train.subarray(o + 1, o + 9)));
    });
    x.dispose();
    y.dispose();
  });

  it('uses real corpus ids: y[b][t] = x[b][t + 1] and the val split for split "val"', () => {
    const ds = new TextDataset([7, 3, 9, 1, 4, 4, 8, 2, 6, 5, 0, 9, 9, 1, 3, 3, 2, 8, 7, 5]);
    // 20 tokens → 18 train, 2 val; blockSize 1 on val allows only offset 0 (nextInt(2 − 1) = 0)
    const v = ds.getBatch('val', 3, 1, createRng(1));
    expect(v.x.arraySync()).toEqual([[7], [7], [7]]);
    expect(v.y.arraySync()).toEqual([[5], [5], [5]]);
    tf.dispose([v.x, v.y]);
    const { x, y } = ds.getBatch('train', 5, 6, createRng(9));
    const xs = x.arraySync();
    const ys = y.arraySync();
    for (let b = 0; b < 5; b++) {
      for (let t = 0; t < 5; t++) expect(ys[b][t]).toBe(xs[b][t + 1]);
    }
    tf.dispose([x, y]);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const ds = new TextDataset(ids);
    const draw = (seed: number) => {
      const { x, y } = ds.getBatch('train', 6, 5, createRng(seed));
      const out = x.arraySync();
      tf.dispose([x, y]);
      return out;
    };
    expect(draw(11)).toEqual(draw(11));
    expect(draw(11)).not.toEqual(draw(12));
  });

  it('leaves no tensors behind once a batch is disposed', () => {
    const ds = new TextDataset(ids);
    const before = tf.memory().numTensors;
    const { x, y } = ds.getBatch('val', 2, 4, createRng(0));
    expect(tf.memory().numTensors).toBe(before + 2);
    x.dispose();
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives clear errors for short or empty corpora and bad arguments', () => {
    expect(() => new TextDataset(new Int32Array(0))).toThrow('the corpus is empty');
    expect(() => new TextDataset([])).toThrow('the corpus is empty');
    expect(() => new TextDataset([1, -2])).toThrow('position 1 is -2');
    expect(() => new TextDataset([1, 2.5])).toThrow('position 1 is 2.5');
    const ds = new TextDataset(ids); // 90 train, 10 val
    const rng = createRng(0);
    expect(() => ds.getBatch('val', 2, 10, rng)).toThrow(
      'The val split has 10 tokens, but blockSize 10 needs at least 11 (blockSize + 1',
    );
    expect(() => ds.getBatch('train', 2, 90, rng)).toThrow('The train split has 90 tokens, but blockSize 90 needs at least 91');
    expect(() => ds.getBatch('test' as 'val', 2, 4, rng)).toThrow(`Unknown split "test": use 'train' or 'val'`);
    expect(() => ds.getBatch('train', 0, 4, rng)).toThrow('batchSize must be a positive integer, got 0');
    expect(() => ds.getBatch('train', 2, 1.5, rng)).toThrow('blockSize must be a positive integer, got 1.5');
    expect(() => new TextDataset(ids, { valFraction: 1 })).toThrow('valFraction must be in [0, 1), got 1');
  });
});
