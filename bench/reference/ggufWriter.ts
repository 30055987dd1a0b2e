/**
 * A small GGUF v3 writer (the file format llama.cpp reads), enough for F32/F16/BF16 tensors and
 * the metadata kinds the llama and gemma3 architectures use. Tensor data is streamed in chunks,
 * so a multi-gigabyte model is never held in memory at once.
 *
 * Layout (little-endian): "GGUF", u32 version 3, u64 tensor count, u64 metadata count; each
 * metadata entry is (string key, u32 value type, value); each tensor info is (string name,
 * u32 n_dims, u64 ne[n_dims] innermost first, u32 ggml type, u64 offset into the data section);
 * then zero padding to `general.alignment` (32), then the tensor data, each tensor aligned to 32.
 * Strings are u64 length + UTF-8 bytes; arrays are u32 element type + u64 count + elements.
 */
import { open } from 'node:fs/promises';

/** GGUF metadata value types. */
const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

/** One metadata value, tagged with the GGUF type it is written as. */
export type GgufValue =
  | { readonly u32: number }
  | { readonly i32: number }
  | { readonly f32: number }
  | { readonly bool: boolean }
  | { readonly string: string }
  | { readonly strings: readonly string[] }
  | { readonly f32s: readonly number[] }
  | { readonly i32s: readonly number[] }
  | { readonly bools: readonly boolean[] };

/** ggml tensor types this writer emits. */
export const GGML_TYPE = { F32: 0, F16: 1, BF16: 30 } as const;
export type GgmlTypeName = keyof typeof GGML_TYPE;
const TYPE_BYTES: Record<GgmlTypeName, number> = { F32: 4, F16: 2, BF16: 2 };

/** A tensor to write: row-major shape (outermost first) and its bytes as a stream of chunks. */
export interface GgufTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: GgmlTypeName;
  /** Yields the row-major element bytes, little-endian, in order; their total must match the shape. */
  readonly chunks: () => Iterable<Uint8Array>;
}

const ALIGN = 32;

class Bytes {
  private parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  concat(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function writeValue(out: Bytes, v: GgufValue): void {
  if ('u32' in v) (out.u32(T.u32), out.u32(v.u32));
  else if ('i32' in v) (out.u32(T.i32), out.i32(v.i32));
  else if ('f32' in v) (out.u32(T.f32), out.f32(v.f32));
  else if ('bool' in v) (out.u32(T.bool), out.push(Buffer.from([v.bool ? 1 : 0])));
  else if ('string' in v) (out.u32(T.string), out.str(v.string));
  else {
    out.u32(T.array);
    if ('strings' in v) (out.u32(T.string), out.u64(v.strings.length), v.strings.forEach((s) => out.str(s)));
    else if ('f32s' in v) (out.u32(T.f32), out.u64(v.f32s.length), v.f32s.forEach((x) => out.f32(x)));
    else if ('i32s' in v) (out.u32(T.i32), out.u64(v.i32s.length), v.i32s.forEach((x) => out.i32(x)));
    else (out.u32(T.bool), out.u64(v.bools.length), out.push(Buffer.from(v.bools.map((b) => (b ? 1 : 0)))));
  }
}

const padTo = (n: number) => (ALIGN - (n % ALIGN)) % ALIGN;

/** Writes a GGUF v3 file: metadata in the given order, then the tensors, streaming their chunks. */
export async function writeGguf(file: string, metadata: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensor[]): Promise<void> {
  const head = new Bytes();
  head.push(Buffer.from('GGUF', 'ascii'));
  head.u32(3);
  head.u64(tensors.length);
  head.u64(metadata.length + 1);
  head.str('general.alignment');
  writeValue(head, { u32: ALIGN });
  for (const [k, v] of metadata) {
    head.str(k);
    writeValue(head, v);
  }
  let offset = 0;
  const sizes: number[] = [];
  for (const t of tensors) {
    head.str(t.name);
    head.u32(t.shape.length);
    // ggml's ne[0] is the innermost (contiguous) axis: the row-major shape reversed.
    for (const d of [...t.shape].reverse()) head.u64(d);
    head.u32(GGML_TYPE[t.type]);
    head.u64(offset);
    const size = t.shape.reduce((a, b) => a * b, 1) * TYPE_BYTES[t.type];
    sizes.push(size);
    offset += size + padTo(size);
  }
  head.push(Buffer.alloc(padTo(head.length)));
  const fh = await open(file, 'w');
  try {
    await fh.write(head.concat());
    for (let i = 0; i < tensors.length; i++) {
      let written = 0;
      for (const c of tensors[i].chunks()) {
        await fh.write(c);
        written += c.length;
      }
      if (written !== sizes[i]) throw new Error(`writeGguf: tensor ${tensors[i].name} gave ${written} bytes, its shape needs ${sizes[i]}.`);
      if (padTo(written) > 0) await fh.write(Buffer.alloc(padTo(written)));
    }
  } finally {
    await fh.close();
  }
}
