/**
 * Recovery of interrupted checkpoint saves (the scheme is described in checkpoint.ts).
 *
 * A save builds `<dir>.tmp-*`, renames `<dir>` to `<dir>.old-*`, renames the temp folder to
 * `<dir>` and deletes the old one. A crash can leave any of these siblings behind, and between
 * the two renames no `<dir>` at all. On the next start the newest copy whose manifest verifies
 * becomes `<dir>` (if it is newer than `<dir>`), and once `<dir>` holds a checkpoint the
 * leftovers are deleted. Nothing unverified is ever promoted, and nothing is deleted while it
 * might be the only copy.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { syncDir, tempSibling } from './atomicWrite.js';
import { verifyCheckpointFolder } from './checkpointManifest.js';
import { CONFIG_FILE } from './checkpointTypes.js';

/** What {@link recoverCheckpoint} did. */
export interface CheckpointRecovery {
  /** The leftover folder that became the checkpoint, if one did. */
  readonly promoted?: string;
  /** Leftover folders deleted. */
  readonly removed: readonly string[];
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** The sibling folders an interrupted save of `target` may have left. */
export async function checkpointLeftovers(target: string): Promise<string[]> {
  const base = path.basename(target);
  let names: string[];
  try {
    names = await readdir(path.dirname(target));
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const n of names.sort()) {
    if (!n.startsWith(`${base}.tmp-`) && !n.startsWith(`${base}.old-`)) continue;
    const full = path.join(path.dirname(target), n);
    if (await isDir(full)) found.push(full);
  }
  return found;
}

/**
 * Promotes the newest verified leftover of an interrupted save to `dir` when it is newer than
 * what `dir` holds (or `dir` is missing), then deletes the leftovers. Must not run while a save
 * to `dir` is in progress (the training session holds the run folder's lock).
 */
export async function recoverCheckpoint(dir: string): Promise<CheckpointRecovery> {
  const target = path.resolve(dir);
  const leftovers = await checkpointLeftovers(target);
  if (leftovers.length === 0) return { removed: [] };
  const current = (await isDir(target)) ? await verifyCheckpointFolder(target) : undefined;
  // A checkpoint without a manifest (an older tinygpt) is kept unless a verified copy is newer.
  let bestAt = current?.ok ? current.manifest.savedAt : -Infinity;
  let best: string | undefined;
  for (const dirPath of leftovers) {
    const check = await verifyCheckpointFolder(dirPath);
    if (check.ok && check.manifest.savedAt > bestAt) {
      bestAt = check.manifest.savedAt;
      best = dirPath;
    }
  }
  const stale = [...leftovers];
  if (best !== undefined) {
    if (current !== undefined) {
      const displaced = tempSibling(target, 'old');
      await rename(target, displaced);
      stale.push(displaced);
    }
    await rename(best, target);
    stale.splice(stale.indexOf(best), 1);
    await syncDir(path.dirname(target));
  }
  const removed: string[] = [];
  // Leftovers are only garbage once <dir> itself holds a checkpoint.
  if (best !== undefined || (await stat(path.join(target, CONFIG_FILE)).then(() => true, () => false))) {
    for (const s of stale) {
      await rm(s, { recursive: true, force: true });
      removed.push(s);
    }
  }
  return { ...(best !== undefined ? { promoted: best } : {}), removed };
}
