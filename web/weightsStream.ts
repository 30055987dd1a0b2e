/**
 * model.safetensors read header-first: the header is checked against config.json (names,
 * shapes, dtypes, the config's sane bounds) from the first bytes of the stream, before the rest
 * is downloaded or any tensor is allocated, so a lying config fails at once instead of building a
 * huge model. Browser-safe; also runs under Node (fetch Response bodies are the same streams).
 */
import { decodeEntry, MAX_HEADER_BYTES, parseSafetensorsHeader, type SafetensorsEntry } from '../src/io/safetensorsParse.js';
import { checkHeaders, planLoad, type LoadPlan } from '../src/pretrained/loadPlan.js';

/** The checked plan and a reader of single tensors from the downloaded bytes. */
export interface CheckedWeights {
  readonly plan: LoadPlan;
  /** Table name → name in the file. */
  readonly names: ReadonlyMap<string, string>;
  read(name: string): Promise<Float32Array | Int32Array>;
}

/** Bytes pulled from a stream on demand. */
class Pull {
  private chunks: Uint8Array[] = [];
  have = 0;
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}
  async fill(n: number): Promise<void> {
    while (this.have < n) {
      const { done, value } = await this.reader.read();
      if (done) return;
      this.chunks.push(value);
      this.have += value.length;
    }
  }
  /** Everything pulled so far, copied into `out` from offset 0. */
  copyInto(out: Uint8Array): void {
    let at = 0;
    for (const c of this.chunks) {
      if (at >= out.length) return;
      out.set(c.subarray(0, Math.min(c.length, out.length - at)), at);
      at += c.length;
    }
  }
  first(n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.have));
    this.copyInto(out);
    return out;
  }
  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

function reader(entries: readonly SafetensorsEntry[], bytes: Uint8Array, dataStart: number, label: string): (name: string) => Promise<Float32Array | Int32Array> {
  const byName = new Map(entries.map((e) => [e.name, e]));
  return async (name) => {
    const e = byName.get(name);
    if (!e) throw new Error(`${label}: has no tensor "${name}".`);
    return decodeEntry(bytes, dataStart, e, label);
  };
}

/**
 * Reads a safetensors stream of `length` bytes (the Content-Length; undefined when unknown, in
 * which case the whole body is read first, still before anything is allocated) and checks it
 * against the parsed config.json. On a fault the download is cancelled.
 */
export async function readCheckedWeights(
  body: ReadableStream<Uint8Array>,
  length: number | undefined,
  json: Record<string, unknown>,
  label: string,
  configLabel: string,
): Promise<CheckedWeights> {
  const pull = new Pull(body.getReader());
  try {
    let total = length;
    if (total === undefined) {
      await pull.fill(Number.POSITIVE_INFINITY);
      total = pull.have;
    }
    await pull.fill(8);
    const prefix = pull.first(8);
    const n = prefix.length === 8 ? Number(new DataView(prefix.buffer).getBigUint64(0, true)) : 0;
    // A length past the file or the format's limit is reported by parseSafetensorsHeader without being read.
    if (n <= Math.min(total - 8, MAX_HEADER_BYTES)) await pull.fill(8 + n);
    const header = parseSafetensorsHeader(pull.first(8 + n), total, label);
    const plan = planLoad(json, header.entries.map((e) => e.name), configLabel);
    const names = checkHeaders(plan, new Map(header.entries.map((e) => [e.name, e])), label, configLabel);
    await pull.fill(total);
    if (pull.have < total) throw new Error(`${label}: the download ended after ${pull.have} of ${total} bytes; reload to try again.`);
    const bytes = new Uint8Array(total);
    pull.copyInto(bytes);
    return { plan, names, read: reader(header.entries, bytes, header.dataStart, label) };
  } catch (e) {
    await pull.cancel().catch(() => undefined);
    throw e;
  }
}
