/**
 * A model folder opened for inference without tfjs tensors: its weights handed to a decoder engine
 * one at a time, straight from the files, bfloat16 ones as bfloat16. This is how a checkpoint too
 * large for tfjs's float32 copy runs: Gemma 3 1B is 2 GB in bfloat16 but 4 GB as float32, more
 * than a 32-bit wasm heap holds, and both copies at once would be 6 GB.
 */
import * as path from 'node:path';
import type { ResolvedGPTConfig } from '../config/config.js';
import { canonicalTensors, type StoredTensor } from '../config/names.js';
import type { DecoderSource } from '../decode/decoder.js';
import { Decoder } from '../decode/decoder.js';
import { toCanonical } from '../io/convert.js';
import { decodeEntry } from '../io/safetensorsParse.js';
import type { TensorData } from '../io/safetensorsTypes.js';
import type { HostTensor } from '../ops/engine.js';
import { DotEngine } from '../ops/dot/dotEngine.js';
import { openCheckpoint, type CheckpointFiles } from './checkpointFiles.js';
import { checkHeaders, planLoad, type LoadPlan } from './loadPlan.js';
import { readConfig } from './pretrained.js';

/** A folder's weights by canonical name, readable until close(). */
export interface HostModel extends DecoderSource {
  /** Closes the weight files; a decoder built before keeps working (it holds its own copy). */
  close(): Promise<void>;
}

/**
 * The table row's tensor without conversion when it can stay as stored: one bfloat16 part, or
 * bfloat16 (out, in) parts stacked (q, k, v of one c_attn), with no offset to add. Its values are
 * read into `scratch` (one buffer for the whole model, so fresh pages are faulted in once), valid
 * until the next read: the engine packs them at once.
 */
function asStored(
  row: StoredTensor,
  files: CheckpointFiles,
  names: ReadonlyMap<string, string>,
  shape: readonly number[],
  scratch: Scratch,
): HostTensor | undefined {
  const stored = row.stored.map((s) => names.get(s) ?? s);
  const entries = stored.map((n) => files.entries.get(n)!);
  if (shape.length !== 2 || row.offset !== 0 || entries.some((e) => e.dtype !== 'BF16')) return undefined;
  if (row.stored.length > 1 && !row.transposed) return undefined; // side-by-side (in, out) parts would interleave
  const bytes = entries.reduce((n, e) => n + e.end - e.begin, 0);
  scratch.bytes = Math.max(scratch.bytes, bytes);
  return {
    shape,
    dtype: 'BF16',
    outMajor: row.transposed,
    read: () => {
      if (scratch.buf.length < scratch.bytes) scratch.buf = new Uint8Array(scratch.bytes);
      let at = 0;
      // (out, in) rows stack: the q rows, then k's, then v's.
      for (const n of stored) at += files.readRawSync(n, scratch.buf.subarray(at)).length;
      return new Uint16Array(scratch.buf.buffer, 0, bytes / 2);
    },
  };
}

/** The read buffer shared by a model's bfloat16 tensors, sized for the largest. */
interface Scratch {
  bytes: number;
  buf: Uint8Array;
}

/** Any other row: decoded to float32 and converted by the name table (transposes, q|k|v, Gemma's 1 + w). */
function converted(
  row: StoredTensor,
  plan: LoadPlan,
  files: CheckpointFiles,
  names: ReadonlyMap<string, string>,
  shape: readonly number[],
): HostTensor {
  return {
    shape,
    dtype: 'F32',
    outMajor: false,
    read: () => {
      const parts = new Map<string, TensorData>();
      for (const s of row.stored) {
        const name = names.get(s) ?? s;
        const e = files.entries.get(name)!;
        parts.set(s, {
          shape: plan.sources.get(s)!,
          data: decodeEntry(files.readRawSync(name), -e.begin, e, files.fileOf(name)),
        });
      }
      return toCanonical(plan.config, plan.format, parts, files.label).tensors.get(row.canonical)!.data as Float32Array;
    },
  };
}

/**
 * Opens a model folder (the formats GPT.fromPretrained reads: tinygpt's, Hugging Face GPT-2,
 * Llama, Gemma 3; one file or shards; F32, F16, BF16) after checking every header against
 * config.json, without reading any weight yet.
 */
export async function openHostModel(dir: string): Promise<HostModel> {
  const json = await readConfig(dir);
  const configFile = path.join(dir, 'config.json');
  planLoad(json, [], configFile);
  const files = await openCheckpoint(dir);
  let closed = false;
  try {
    const plan = planLoad(json, [...files.entries.keys()], configFile);
    const names = checkHeaders(plan, files.entries, files.label, configFile);
    const shapes = new Map(canonicalTensors(plan.config).map((t) => [t.name, t.shape]));
    const weights = new Map<string, HostTensor>();
    const scratch: Scratch = { bytes: 0, buf: new Uint8Array(0) };
    for (const row of plan.rows) {
      const shape = shapes.get(row.canonical)!;
      weights.set(row.canonical, asStored(row, files, names, shape, scratch) ?? converted(row, plan, files, names, shape));
    }
    const config: ResolvedGPTConfig = plan.config;
    return {
      config,
      namedWeights: () => weights,
      checkAlive: () => {
        if (closed) throw new Error(`openHostModel: ${dir} was closed; open it again to build another decoder.`);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        scratch.buf = new Uint8Array(0);
        await files.close();
      },
    };
  } catch (e) {
    await files.close();
    throw e;
  }
}

/**
 * A Decoder for a model folder on the DotEngine: weights packed into its own WebAssembly memory,
 * bfloat16 kept as bfloat16, read from the files one tensor at a time (peak memory ≈ the packed
 * weights plus the largest tensor). For inference; to train, load with GPT.fromPretrained.
 */
export async function loadDecoder(dir: string): Promise<Decoder> {
  const host = await openHostModel(dir);
  try {
    return new Decoder(host, new DotEngine());
  } finally {
    await host.close();
  }
}
