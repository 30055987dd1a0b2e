import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { openSafetensors, type LazySafetensors } from '../io/safetensorsLazy.js';
import type { SafetensorsEntry } from '../io/safetensorsParse.js';

/** Files of a model folder's weights. */
export const WEIGHTS_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** The weights of a folder, one file or several shards, opened header-first. */
export interface CheckpointFiles {
  /** Every tensor's dtype and shape by name, across all shards. */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /** Reads one tensor (float32 or int32) from whichever shard holds it. */
  read(name: string): Promise<Float32Array | Int32Array>;
  /** One tensor's bytes as stored, read synchronously (into `into` when it is large enough). */
  readRawSync(name: string, into?: Uint8Array): Uint8Array;
  /** The file holding a tensor, for error messages. */
  fileOf(name: string): string;
  /** What to name in messages: the single file or the index. */
  readonly label: string;
  close(): Promise<void>;
}

/**
 * Opens model.safetensors, or the shards listed by model.safetensors.index.json (HF's
 * {"weight_map": {tensor: shard file}}); only headers are read. Each shard must hold exactly the
 * tensors the index assigns to it.
 */
export async function openCheckpoint(dir: string): Promise<CheckpointFiles> {
  const index = path.join(dir, INDEX_FILE);
  const single = path.join(dir, WEIGHTS_FILE);
  if (!existsSync(index)) {
    if (!existsSync(single)) throw new Error(`${dir} has no weights: expected ${WEIGHTS_FILE} or ${INDEX_FILE} with its shards.`);
    const f = await openSafetensors(single);
    return {
      entries: f.entries,
      read: (n) => f.read(n),
      readRawSync: (n, into) => f.readRawSync(n, into),
      fileOf: () => single,
      label: single,
      close: () => f.close(),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(index, 'utf8'));
  } catch (e) {
    throw new Error(`${index}: cannot read the shard index (${(e as Error).message}).`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new Error(`${index}: "weight_map" must map each tensor name to its shard file.`);
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw new Error(`${index}: weight_map["${name}"] must be a file name in this folder, got ${JSON.stringify(shard)}.`);
    }
    byShard.set(shard, [...(byShard.get(shard) ?? []), name]);
  }
  const shards = new Map<string, LazySafetensors>();
  const closeAll = () => Promise.all([...shards.values()].map((s) => s.close()));
  try {
    for (const [shard, names] of byShard) {
      const f = await openSafetensors(path.join(dir, shard));
      shards.set(shard, f);
      const missing = names.filter((n) => !f.entries.has(n));
      const extra = [...f.entries.keys()].filter((n) => (map as Record<string, unknown>)[n] !== shard);
      if (missing.length || extra.length) {
        throw new Error(
          `${f.file} disagrees with ${INDEX_FILE}: ${missing.length ? `missing ${missing.slice(0, 3).join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `not in the index ${extra.slice(0, 3).join(', ')}` : ''}.`,
        );
      }
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  const entries = new Map<string, SafetensorsEntry>();
  const owner = new Map<string, LazySafetensors>();
  for (const f of shards.values()) for (const [n, e] of f.entries) entries.set(n, e), owner.set(n, f);
  const shardOf = (n: string) => {
    const f = owner.get(n);
    if (!f) throw new Error(`${index}: no shard holds tensor "${n}".`);
    return f;
  };
  return {
    entries,
    read: (n) => shardOf(n).read(n),
    readRawSync: (n, into) => shardOf(n).readRawSync(n, into),
    fileOf: (n) => owner.get(n)?.file ?? index,
    label: index,
    close: async () => void (await closeAll()),
  };
}
