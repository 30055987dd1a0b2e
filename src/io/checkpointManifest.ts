/**
 * manifest.json: the last file written into a checkpoint folder. It lists every other file
 * with its size and SHA-256, so a folder left behind by an interrupted save (ckpt.tmp-*,
 * ckpt.old-*) can be proven complete before it is promoted, and a newer copy told from an
 * older one by `savedAt`.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';

export const MANIFEST_FILE = 'manifest.json';

/** Tag of the manifest format, so a foreign manifest.json is never mistaken for ours. */
const FORMAT = 'tinygpt-checkpoint-manifest';

/** Size and digest of one file of the folder. */
export interface ManifestEntry {
  /** Bytes on disk. */
  readonly size: number;
  /** Lowercase hex SHA-256 of the bytes. */
  readonly sha256: string;
}

/** What manifest.json holds. */
export interface CheckpointManifest {
  /** Always {@link FORMAT}. */
  readonly format: typeof FORMAT;
  /** Milliseconds since the epoch, strictly increasing across the saves of one process. */
  readonly savedAt: number;
  /** Every other file of the folder, by name. */
  readonly files: Readonly<Record<string, ManifestEntry>>;
}

let lastSavedAt = 0;

function digest(bytes: Uint8Array | string): ManifestEntry {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return { size: buf.byteLength, sha256: createHash('sha256').update(buf).digest('hex') };
}

/** The manifest text for the files about to be written (computed from their in-memory bytes). */
export function manifestText(files: ReadonlyArray<readonly [string, Uint8Array | string]>): string {
  // Two saves within one millisecond still get distinct, ordered stamps.
  lastSavedAt = Math.max(Date.now(), lastSavedAt + 1);
  const entries: Record<string, ManifestEntry> = {};
  for (const [name, data] of files) entries[name] = digest(data);
  const manifest: CheckpointManifest = { format: FORMAT, savedAt: lastSavedAt, files: entries };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Outcome of {@link verifyCheckpointFolder}: the manifest when every file matches, else why not. */
export type ManifestCheck = { readonly ok: true; readonly manifest: CheckpointManifest } | { readonly ok: false; readonly why: string };

function parseManifest(text: string): CheckpointManifest | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return `${MANIFEST_FILE} is not valid JSON`;
  }
  if (v === null || typeof v !== 'object') return `${MANIFEST_FILE} is not an object`;
  const m = v as Record<string, unknown>;
  if (m.format !== FORMAT || typeof m.savedAt !== 'number' || m.files === null || typeof m.files !== 'object') {
    return `${MANIFEST_FILE} is not a tinygpt manifest`;
  }
  for (const e of Object.values(m.files as Record<string, unknown>)) {
    const f = e as Record<string, unknown> | null;
    if (f === null || typeof f !== 'object' || typeof f.size !== 'number' || typeof f.sha256 !== 'string') {
      return `${MANIFEST_FILE} has a malformed file entry`;
    }
  }
  return m as unknown as CheckpointManifest;
}

/**
 * Checks a folder against its manifest: every listed file exists with the listed size and
 * SHA-256 (sizes first, so a truncated file is found without hashing it).
 */
export async function verifyCheckpointFolder(dir: string): Promise<ManifestCheck> {
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    return { ok: false, why: `no ${MANIFEST_FILE} (the save did not finish)` };
  }
  const manifest = parseManifest(text);
  if (typeof manifest === 'string') return { ok: false, why: manifest };
  for (const [name, want] of Object.entries(manifest.files)) {
    let size: number;
    try {
      size = (await stat(path.join(dir, name))).size;
    } catch {
      return { ok: false, why: `${name} is missing` };
    }
    if (size !== want.size) return { ok: false, why: `${name} has ${size} bytes, the manifest says ${want.size}` };
  }
  for (const [name, want] of Object.entries(manifest.files)) {
    if (digest(await readFile(path.join(dir, name))).sha256 !== want.sha256) {
      return { ok: false, why: `${name} does not match its SHA-256 in the manifest` };
    }
  }
  return { ok: true, manifest };
}
