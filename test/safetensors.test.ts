import { describe, expect, it } from 'vitest';
import {
  SafetensorsError,
  bfloat16ToFloat,
  halfToFloat,
  parseSafetensors,
  serializeSafetensors,
} from '../src/io/safetensors.js';

/** A safetensors file from a header (object or raw text) and data bytes, built by hand. */
function build(header: unknown, data: number[] = [], lengthOverride?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Little-endian bytes of 16-bit words. */
const u16le = (words: number[]): number[] => words.flatMap((w) => [w & 0xff, w >> 8]);

function expectFault(bytes: Uint8Array, pattern: RegExp): void {
  let caught: unknown;
  try {
    parseSafetensors(bytes, 'w.safetensors');
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SafetensorsError);
  expect((caught as Error).message).toMatch(/^w\.safetensors: /);
  expect((caught as Error).message).toMatch(pattern);
}

describe('16-bit float converters', () => {
  it('decodes IEEE half by hand-checked bit patterns', () => {
    expect(halfToFloat(0x3c00)).toBe(1); // e=15, m=0 → 2^0
    expect(halfToFloat(0xc000)).toBe(-2); // sign, e=16 → −2^1
    expect(halfToFloat(0x7bff)).toBe(65504); // e=30, m=1023 → 2^15·(1+1023/1024) = 65504
    expect(halfToFloat(0x0001)).toBe(2 ** -24); // smallest subnormal: 2^-14·1/1024
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(halfToFloat(0x0400)).toBe(2 ** -14); // smallest normal
    expect(halfToFloat(0x3555)).toBe(0.333251953125); // 2^-2·(1+341/1024) = 1365/4096
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('decodes bfloat16 as the top half of a float32', () => {
    expect(bfloat16ToFloat(0x3f80)).toBe(1); // 0x3F800000 = 1.0
    expect(bfloat16ToFloat(0xc000)).toBe(-2); // 0xC0000000 = −2.0
    expect(bfloat16ToFloat(0x4049)).toBe(3.140625); // 0x40490000 = 2·(1 + 0x49/128) = 3.140625
    expect(bfloat16ToFloat(0x0001)).toBe(2 ** -133); // 0x00010000 = 2^16·2^-149
    expect(bfloat16ToFloat(0x7f80)).toBe(Infinity);
    expect(bfloat16ToFloat(0xff80)).toBe(-Infinity);
    expect(bfloat16ToFloat(0x7fc0)).toBeNaN();
  });
});

describe('parseSafetensors on hand-built files', () => {
  it('reads F16 and BF16 tensors into float32', () => {
    const half = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00];
    const bf = [0x3f80, 0xc000, 0x4049, 0xff80];
    const bytes = build(
      {
        h: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] },
        b: { dtype: 'BF16', shape: [4], data_offsets: [12, 20] },
      },
      [...u16le(half), ...u16le(bf)],
    );
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({});
    const h = tensors.get('h')!;
    expect(h.dtype).toBe('F16');
    expect(h.shape).toEqual([2, 3]);
    expect(h.data).toBeInstanceOf(Float32Array);
    expect(Array.from(h.data)).toEqual([1, -2, 65504, 2 ** -24, Infinity, NaN]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([1, -2, 3.140625, -Infinity]);
  });

  it('reads F32 at an unaligned offset, I32 and in-range I64', () => {
    // One F16 (2 bytes) puts the F32 at buffer offset 2: not 4-byte aligned.
    const f32 = [0x00, 0x00, 0xc0, 0x3f]; // 0x3FC00000 = 1.5
    const i32 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]; // −1, 2^31−1
    const i64 = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0, 0, 0, 0, 0]; // −2, 7
    const bytes = build(
      {
        __metadata__: { format: 'pt' },
        pad: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
        x: { dtype: 'F32', shape: [], data_offsets: [2, 6] },
        i: { dtype: 'I32', shape: [2], data_offsets: [6, 14] },
        l: { dtype: 'I64', shape: [2, 1], data_offsets: [14, 30] },
      },
      [0x00, 0x3c, ...f32, ...i32, ...i64],
    );
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['pad', 'x', 'i', 'l']); // file order
    expect(tensors.get('x')!.shape).toEqual([]);
    expect(Array.from(tensors.get('x')!.data)).toEqual([1.5]);
    expect(tensors.get('i')!.data).toBeInstanceOf(Int32Array);
    expect(Array.from(tensors.get('i')!.data)).toEqual([-1, 2147483647]);
    expect(Array.from(tensors.get('l')!.data)).toEqual([-2, 7]);
  });

  it('reads from a Node Buffer that is a view into a larger allocation', () => {
    const file = serializeSafetensors({ a: { shape: [2], data: new Float32Array([3, 4]) } });
    const view = Buffer.concat([Buffer.alloc(3, 9), Buffer.from(file), Buffer.alloc(5, 9)]).subarray(3, 3 + file.length);
    const a = parseSafetensors(view).tensors.get('a')!;
    expect(Array.from(a.data)).toEqual([3, 4]);
    expect(a.data.buffer.byteLength).toBe(8); // its own copy, not the whole allocation
  });
});

describe('serializeSafetensors', () => {
  it('round-trips F32 bit-exactly, I32, scalars, empty tensors and metadata', () => {
    const odd = new Float32Array([-0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38]);
    const tensors = new Map([
      ['w', { shape: [2, 3], data: odd }],
      ['b', { shape: [], data: new Float32Array([0.1]) }],
      ['e', { shape: [0, 4], data: new Float32Array(0) }],
      ['ids', { shape: [3], data: new Int32Array([-5, 0, 2 ** 31 - 1]) }],
    ]);
    const bytes = serializeSafetensors(tensors, { step: '12', note: 'ünïcode' });
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ step: '12', note: 'ünïcode' });
    const w = parsed.tensors.get('w')!;
    expect(w.dtype).toBe('F32');
    expect(w.shape).toEqual([2, 3]);
    // Byte-level equality also covers −0 and the NaN payload.
    expect(new Uint8Array(w.data.buffer)).toEqual(new Uint8Array(odd.buffer));
    expect(Array.from(parsed.tensors.get('b')!.data)).toEqual([Math.fround(0.1)]);
    expect(parsed.tensors.get('e')!.shape).toEqual([0, 4]);
    expect(parsed.tensors.get('e')!.data.length).toBe(0);
    expect(parsed.tensors.get('ids')!.dtype).toBe('I32');
    expect(Array.from(parsed.tensors.get('ids')!.data)).toEqual([-5, 0, 2147483647]);
  });

  it('pads the header to 8 bytes, sorts by name and writes little-endian', () => {
    const bytes = serializeSafetensors({
      z: { shape: [1], data: new Float32Array([1]) },
      a: { shape: [1], data: new Float32Array([-2]) },
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    const header = JSON.parse(text);
    expect(n - text.trimEnd().length).toBeLessThan(8); // at most 7 spaces of padding
    expect(text.trimEnd()).toBe(JSON.stringify(header)); // and nothing but spaces
    expect(header).toEqual({
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      z: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
    });
    // −2.0 = 0xC0000000 and 1.0 = 0x3F800000, low byte first.
    expect(Array.from(bytes.subarray(8 + n))).toEqual([0, 0, 0, 0xc0, 0, 0, 0x80, 0x3f]);
  });

  it('gives identical bytes for a Map and a Record in any insertion order', () => {
    const x = { shape: [2], data: new Float32Array([1, 2]) };
    const y = { shape: [1], data: new Float32Array([3]) };
    const fromMap = serializeSafetensors(new Map([['y', y], ['x', x]]));
    expect(serializeSafetensors({ x, y })).toEqual(fromMap);
    expect(new TextDecoder().decode(fromMap)).not.toContain('__metadata__'); // none given
  });

  it('treats "__proto__" as an ordinary tensor and metadata name', () => {
    const tensors = new Map([['__proto__', { shape: [1], data: new Float32Array([2]) }]]);
    const meta = Object.fromEntries([['__proto__', 'x']]) as Record<string, string>;
    const parsed = parseSafetensors(serializeSafetensors(tensors, meta));
    expect(Array.from(parsed.tensors.get('__proto__')!.data)).toEqual([2]);
    expect(Object.keys(parsed.metadata)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(parsed.metadata)).toBe(Object.prototype);
  });

  it('rejects tensors it cannot write, naming the tensor', () => {
    expect(() => serializeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      /tensor "w": shape \[2,2\] has 4 elements but data has 3/,
    );
    expect(() => serializeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow(/reserved/);
    const f64 = { shape: [1], data: new Float64Array(1) as unknown as Float32Array };
    expect(() => serializeSafetensors({ d: f64 })).toThrow(/data must be a Float32Array/);
    expect(() => serializeSafetensors({ s: { shape: [-1], data: new Float32Array(0) } })).toThrow(/non-negative integers/);
    const badMeta = { step: 3 } as unknown as Record<string, string>;
    expect(() => serializeSafetensors({}, badMeta)).toThrow(/metadata\.step must be a string/);
  });
});

describe('parseSafetensors rejects malformed files', () => {
  const f32 = (offsets: number[], shape = [1]) => ({ dtype: 'F32', shape, data_offsets: offsets });

  it('rejects a truncated length prefix', () => {
    expectFault(new Uint8Array(5), /file is 5 bytes, shorter than the 8-byte/);
  });

  it('rejects a header length beyond the file, without allocating for it', () => {
    expectFault(build('{}', [], 100n), /header length 100 exceeds the 2 bytes after the prefix/);
    // 2^60 and 2^64−1 would be exabytes: refused by comparison alone.
    expectFault(build('{}', [], 2n ** 60n), /header length 1152921504606846976 exceeds/);
    expectFault(build('{}', [], 2n ** 64n - 1n), /header length 18446744073709551615 exceeds/);
  });

  it('rejects bad UTF-8, bad JSON and a non-object header', () => {
    const bad = build('{}');
    bad[8] = 0xff; // never valid in UTF-8
    expectFault(bad, /header is not valid UTF-8/);
    expectFault(build('{"a": '), /header is not valid JSON/);
    expectFault(build('[1, 2]'), /header must be a JSON object of tensors, got an array/);
    expectFault(build('null'), /got null/);
  });

  it('rejects unknown and unsupported dtypes', () => {
    expectFault(build({ a: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor "a": unknown dtype "F17"/);
    expectFault(
      build({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Array(8).fill(0)),
      /unsupported dtype "F64".*convert the tensor to F32/,
    );
  });

  it('rejects bad entries, shapes and offsets', () => {
    const four = [0, 0, 0, 0];
    expectFault(build({ a: 3 }, four), /tensor "a": entry must be an object/);
    expectFault(build({ a: f32([0, 4], [-1]) }, four), /shape must be an array of non-negative integers, got \[-1\]/);
    expectFault(build({ a: f32([0, 4], [1.5] as number[]) }, four), /non-negative integers/);
    expectFault(build({ a: { dtype: 'F32', shape: '1', data_offsets: [0, 4] } }, four), /shape must be an array/);
    expectFault(build({ a: f32([0]) }, four), /data_offsets must be \[begin, end\]/);
    expectFault(build({ a: { dtype: 'F32', shape: [1], data_offsets: ['0', 4] } }, four), /data_offsets must be/);
    expectFault(build({ a: f32([4, 0]) }, four), /begin > end/);
    expectFault(build({ a: f32([0, 8], [2]) }, four), /end 8 is past the 4-byte data buffer/);
    expectFault(build({ __metadata__: { n: 1 }, a: f32([0, 4]) }, four), /__metadata__\.n must be a string/);
  });

  it('rejects a header that lies about sizes', () => {
    // shape [3] of F32 needs 3·4 = 12 bytes, the offsets claim 8.
    expectFault(build({ a: f32([0, 8], [3]) }, new Array(8).fill(0)), /span 8 bytes but shape \[3\] of F32 needs 12/);
  });

  it('rejects overlapping tensors, gaps and trailing bytes', () => {
    const twelve = new Array(12).fill(0);
    expectFault(build({ a: f32([0, 8], [2]), b: f32([4, 12], [2]) }, twelve), /"a" \[0, 8\) and "b" \[4, 12\) overlap/);
    expectFault(build({ a: f32([0, 4]), b: f32([8, 12]) }, twelve), /bytes \[4, 8\) before tensor "b" belong to no tensor/);
    expectFault(build({ a: f32([0, 4]) }, new Array(8).fill(0)), /4 trailing bytes after the last tensor/);
  });

  it('rejects an I64 value that does not fit in int32', () => {
    const big = [0, 0, 0, 0, 1, 0, 0, 0]; // 2^32
    expectFault(build({ l: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big), /element 0 = 4294967296 does not fit in int32/);
  });
});
