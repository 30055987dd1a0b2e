/**
 * A streaming safetensors writer for the reference scripts (independent of tinygpt's own writer,
 * so a loader test does not check tinygpt against itself): the header is computed from the
 * shapes, then each tensor's bytes are streamed in chunks.
 * Layout: u64 header length N, N bytes of JSON (padded with spaces to a multiple of 8), data.
 */
import { open } from 'node:fs/promises';

/** A tensor to store: HF name, row-major shape, dtype and its little-endian bytes in chunks. */
export interface StreamTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'F32' | 'BF16' | 'F16';
  readonly chunks: () => Iterable<Uint8Array>;
}

const BYTES = { F32: 4, BF16: 2, F16: 2 } as const;

/** Writes `tensors` (in order) to `file` with optional string metadata. */
export async function writeSafetensorsStream(file: string, tensors: readonly StreamTensor[], metadata: Record<string, string> = { format: 'pt' }): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const sizes: number[] = [];
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    sizes.push(size);
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fh = await open(file, 'w');
  try {
    await fh.write(head);
    await fh.write(Buffer.from(json, 'utf8'));
    for (let i = 0; i < tensors.length; i++) {
      let n = 0;
      for (const c of tensors[i].chunks()) (await fh.write(c), (n += c.length));
      if (n !== sizes[i]) throw new Error(`writeSafetensorsStream: ${tensors[i].name} gave ${n} bytes, needs ${sizes[i]}.`);
    }
  } finally {
    await fh.close();
  }
}
