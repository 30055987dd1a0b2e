import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors, SafetensorsError, serializeSafetensors } from '../src/io/safetensors.js';
import { parseSafetensorsHeader } from '../src/io/safetensorsParse.js';
import { openSafetensors } from '../src/io/safetensorsLazy.js';

/** A safetensors file from raw header text and data bytes, built by hand. */
function build(text: string, data: number[] = []): Uint8Array {
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function fault(bytes: Uint8Array): Error {
  try {
    parseSafetensors(bytes, 'w.safetensors');
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a fault');
}

const entry = (begin: number, end: number, shape = '[1]') => `{"dtype":"F32","shape":${shape},"data_offsets":[${begin},${end}]}`;

describe('safetensors header faults are reader errors', () => {
  it('rejects a duplicate tensor name, which JSON.parse would silently resolve to the last', () => {
    const e = fault(build(`{"a":${entry(0, 4)},"a":${entry(4, 8)}}`, new Array(8).fill(0)));
    expect(e).toBeInstanceOf(SafetensorsError);
    expect(e.message).toBe('w.safetensors: malformed header: key "a" appears twice; the format forbids duplicate keys.');
  });

  it('rejects a duplicate field inside an entry and a duplicate __metadata__', () => {
    const inEntry = fault(build(`{"a":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}`, [0, 0, 0, 0]));
    expect(inEntry.message).toMatch(/key "shape" appears twice in one entry/);
    const meta = fault(build(`{"__metadata__":{},"__metadata__":{},"a":${entry(0, 4)}}`, [0, 0, 0, 0]));
    expect(meta.message).toMatch(/key "__metadata__" appears twice/);
    // The same key in two different entries is not a duplicate.
    expect(parseSafetensors(build(`{"a":${entry(0, 4)},"b":${entry(4, 8)}}`, new Array(8).fill(0))).tensors.size).toBe(2);
  });

  it('rejects escaped spellings of one key as duplicates ("\\u0061" is "a")', () => {
    expect(fault(build(`{"a":${entry(0, 4)},"\\u0061":${entry(4, 8)}}`, new Array(8).fill(0))).message).toMatch(/key "a" appears twice/);
  });

  it('rejects a deeply nested shape with the reader error, not a RangeError', () => {
    for (const depth of [4, 100_000]) {
      const e = fault(build(`{"a":{"dtype":"F32","shape":${'['.repeat(depth)}${']'.repeat(depth)},"data_offsets":[0,0]}}`));
      expect(e).toBeInstanceOf(SafetensorsError);
      expect(e.message).toMatch(/nests deeper than 3 levels/);
    }
  });

  it('rejects non-integer, negative and nested dimensions, naming them briefly', () => {
    expect(fault(build(`{"a":${entry(0, 4, '[1.5]')}}`, [0, 0, 0, 0])).message).toMatch(/got \[1\.5\]\.$/);
    expect(fault(build(`{"a":${entry(0, 4, '[-4]')}}`, [0, 0, 0, 0])).message).toMatch(/got \[-4\]\.$/);
    expect(fault(build(`{"a":${entry(0, 4, '[[1]]')}}`, [0, 0, 0, 0])).message).toMatch(/nests deeper than 3 levels/);
    expect(fault(build(`{"a":${entry(0, 4, '["1"]')}}`, [0, 0, 0, 0])).message).toMatch(/got \["1"\]\.$/);
  });
});

describe('parseSafetensorsHeader and openSafetensors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tinygpt-sthead-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const bytes = serializeSafetensors({
    w: { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    i: { shape: [2], data: new Int32Array([7, -8]) },
  });

  it('validates a header from its first bytes alone, with offsets into the data buffer', () => {
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const { entries, dataStart } = parseSafetensorsHeader(bytes.subarray(0, 8 + n), bytes.length, 'w');
    expect(dataStart).toBe(8 + n);
    // serializeSafetensors sorts by name: i (2 × I32 = 8 bytes) then w (6 × F32 = 24 bytes).
    expect(entries.map((e) => [e.name, e.dtype, e.shape, e.begin, e.end])).toEqual([
      ['i', 'I32', [2], 0, 8],
      ['w', 'F32', [2, 3], 8, 32],
    ]);
    // The file length still bounds the offsets: one byte short is a truncated file.
    expect(() => parseSafetensorsHeader(bytes.subarray(0, 8 + n), bytes.length - 1, 'w')).toThrow(/past the 31-byte data buffer; the file is truncated/);
  });

  it('reads single tensors from a file by name, equal to the whole-file parse', async () => {
    const file = path.join(dir, 'w.safetensors');
    await writeFile(file, bytes);
    const f = await openSafetensors(file);
    expect([...f.entries.keys()]).toEqual(['i', 'w']);
    expect(Array.from(await f.read('w'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(await f.read('i'))).toEqual([7, -8]);
    await expect(f.read('x')).rejects.toThrow(`${file}: has no tensor "x".`);
    await f.close();
  });

  it('refuses a header longer than the format allows before reading it', async () => {
    const file = path.join(dir, 'huge.safetensors');
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, 200_000_000n, true);
    await writeFile(file, b);
    await expect(openSafetensors(file)).rejects.toThrow(/header length 200000000 exceeds the 8 bytes after the prefix/);
    await expect(openSafetensors(path.join(dir, 'none.safetensors'))).rejects.toThrow(/cannot read safetensors file \(no such file\)/);
    await expect(openSafetensors(dir)).rejects.toThrow(/cannot read safetensors file \(is a directory\)/);
  });
});

describe('decode16', () => {
  it('gives the same floats from an aligned and an odd byte offset (Uint16Array and DataView paths)', async () => {
    const { decode16 } = await import('../src/io/halfFloat.js');
    // 0x3c00 = 1 (F16), 0xc000 = −2 (F16); as BF16, 0x3f80 = 1 and 0xc040 = −3.
    const words = [0x3c00, 0xc000, 0x3f80, 0xc040];
    const bytes = new Uint8Array(1 + 2 * words.length);
    words.forEach((w, i) => ((bytes[1 + 2 * i] = w & 0xff), (bytes[2 + 2 * i] = w >> 8)));
    const odd = new DataView(bytes.buffer, 0);
    const even = new DataView(bytes.slice(1).buffer);
    expect(Array.from(decode16(odd, 1, 2, 'F16'))).toEqual([1, -2]);
    expect(Array.from(decode16(even, 0, 2, 'F16'))).toEqual([1, -2]);
    expect(Array.from(decode16(odd, 5, 2, 'BF16'))).toEqual([1, -3]);
    expect(Array.from(decode16(even, 4, 2, 'BF16'))).toEqual([1, -3]);
  });
});
