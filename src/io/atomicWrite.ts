import { mkdir, open, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';

// Distinguishes temp names of concurrent writes from one process.
let counter = 0;

/** A sibling path for temporary output: same directory, so a rename onto the target is atomic. */
export function tempSibling(target: string, tag = 'tmp'): string {
  counter += 1;
  return `${target}.${tag}-${process.pid}-${counter}`;
}

/**
 * fsync a directory so a rename inside it survives a power cut. Best effort: some platforms
 * (Windows) cannot open a directory for syncing, and the rename is still atomic there.
 */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Durability is a bonus here; atomicity already holds without it.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Writes `data` to `file` and fsyncs it, so that it is complete on disk before any rename. */
export async function writeDurable(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `file` atomically: readers see either the old contents or the new, never a
 * partial file. The data goes to a temp file in the same directory, is fsynced, then
 * renamed over the target; on failure the temp file is removed and the target untouched.
 * Creates the folder if needed.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = tempSibling(file);
  try {
    await writeDurable(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDir(path.dirname(file));
}
