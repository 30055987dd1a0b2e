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

/**
 * Node's write errors name no file ("ENOSPC: no space left on device, write"); this one names
 * `file` and keeps the error code for callers that branch on it.
 */
export function fileWriteError(file: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOSPC' ? 'the disk is full (ENOSPC); free some space'
    : code === 'EISDIR' ? 'a folder is in the way where the file should go'
    : code === 'EDQUOT' ? 'the disk quota is exhausted (EDQUOT)'
    : (e as Error).message;
  return Object.assign(new Error(`cannot write ${file}: ${why}`, { cause: e }), { code });
}

/** Writes `data` to `file` and fsyncs it, so that it is complete on disk before any rename. */
export async function writeDurable(file: string, data: Uint8Array | string): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'wx');
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    throw fileWriteError(file, e);
  } finally {
    await handle?.close();
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
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') {
      throw Object.assign(new Error(`${file} is a folder where a file is expected: pass a file path instead.`, { cause: e }), { code });
    }
    throw e;
  }
  await syncDir(path.dirname(file));
}
