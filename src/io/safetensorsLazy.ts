/**
 * A safetensors file opened for reading one tensor at a time: only the header is read and
 * checked on open, so a loader can compare every name, shape and dtype with its config before
 * it allocates a model, and a multi-gigabyte checkpoint is never held in memory whole.
 */
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { decodeEntry, MAX_HEADER_BYTES, parseSafetensorsHeader, type SafetensorsEntry } from './safetensorsParse.js';
import { SafetensorsError } from './safetensorsTypes.js';

/** An open safetensors file; close() it when done. */
export interface LazySafetensors {
  readonly file: string;
  /** Every tensor's dtype, shape and byte range, by name (checked: they tile the data exactly). */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;
  /** Reads and decodes one tensor (F16/BF16 widened to float32, I64 narrowed to int32). */
  read(name: string): Promise<Float32Array | Int32Array>;
  /**
   * Reads one tensor's bytes as stored, synchronously (for loaders that hand weights on one at a
   * time), into `into` when it is large enough (a view of it is returned) or a fresh array.
   */
  readRawSync(name: string, into?: Uint8Array): Uint8Array;
  close(): Promise<void>;
}

function ioError(file: string, e: unknown): SafetensorsError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
  return new SafetensorsError(file, `cannot read safetensors file (${why}).`);
}

async function readAt(fh: FileHandle, length: number, position: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** Opens `file` and validates its header; nothing but the header is read. */
export async function openSafetensors(file: string): Promise<LazySafetensors> {
  let fh: FileHandle;
  let size: number;
  try {
    fh = await open(file, 'r');
    const st = await fh.stat();
    if (st.isDirectory()) {
      await fh.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    size = st.size;
  } catch (e) {
    throw ioError(file, e);
  }
  try {
    const prefix = await readAt(fh, Math.min(8, size), 0);
    let head = prefix;
    if (prefix.length === 8) {
      // A length past the file or the format's limit is left for parseSafetensorsHeader to report, unread.
      const n = new DataView(prefix.buffer).getBigUint64(0, true);
      if (n <= BigInt(Math.min(size - 8, MAX_HEADER_BYTES))) {
        head = new Uint8Array(8 + Number(n));
        head.set(prefix);
        head.set(await readAt(fh, Number(n), 8), 8);
      }
    }
    const { entries, metadata, dataStart } = parseSafetensorsHeader(head, size, file);
    const byName = new Map(entries.map((e) => [e.name, e]));
    return {
      file,
      entries: byName,
      metadata,
      async read(name) {
        const e = byName.get(name);
        if (!e) throw new SafetensorsError(file, `has no tensor "${name}".`);
        const bytes = await readAt(fh, e.end - e.begin, dataStart + e.begin);
        if (bytes.length !== e.end - e.begin)
          throw new SafetensorsError(file, `tensor "${name}" is cut short; the file changed while it was read.`);
        return decodeEntry(bytes, -e.begin, e, file);
      },
      readRawSync(name, into) {
        const e = byName.get(name);
        if (!e) throw new SafetensorsError(file, `has no tensor "${name}".`);
        const size = e.end - e.begin;
        const buf = into && into.length >= size ? into.subarray(0, size) : new Uint8Array(size);
        let done = 0;
        while (done < buf.length) {
          const n = readSync(fh.fd, buf, done, buf.length - done, dataStart + e.begin + done);
          if (n === 0) throw new SafetensorsError(file, `tensor "${name}" is cut short; the file changed while it was read.`);
          done += n;
        }
        return buf;
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
