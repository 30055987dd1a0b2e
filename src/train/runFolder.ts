/**
 * The output folder of a training run: <out>/ckpt (checkpoint), <out>/metrics.jsonl and
 * <out>/tinygpt.lock while a run owns it. Opening a run folder takes the lock, recovers an
 * interrupted checkpoint save and decides, with the caller's resume/overwrite choice, whether
 * the folder may be used at all.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { checkpointLeftovers, recoverCheckpoint, type CheckpointRecovery } from '../io/checkpointRecover.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../io/checkpointTypes.js';

/** The checkpoint lives in a subfolder, so metrics and plots beside it survive each atomic swap. */
export const CHECKPOINT_SUBDIR = 'ckpt';
/** The metrics log beside the checkpoint. */
export const METRICS_FILE = 'metrics.jsonl';
/** Holds the owner's pid while a run trains into the folder. */
export const LOCK_FILE = 'tinygpt.lock';

/** Locks held by this process, so a second in-process run on the same folder is refused too. */
const held = new Set<string>();

/** Whether a process with this pid is alive (EPERM: alive but not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerPid(file: string): number | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
    return typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0 ? v.pid : undefined;
  } catch {
    return undefined; // unreadable or torn: nobody can be shown to own it
  }
}

/** An exclusive claim on a run folder, released by release() or when the process exits. */
export class RunLock {
  private released = false;
  private readonly onExit = (): void => this.release();

  private constructor(readonly file: string) {
    held.add(file);
    process.once('exit', this.onExit);
  }

  /**
   * Takes `<outDir>/tinygpt.lock` (created exclusively, holding this pid). A lock whose pid is
   * no longer running is stale (a killed run) and is taken over; a live one is refused.
   */
  static acquire(outDir: string): RunLock {
    const file = path.resolve(outDir, LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd: number;
      try {
        fd = openSync(file, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = ownerPid(file);
        if (held.has(file) || (pid !== undefined && pid !== process.pid && alive(pid))) {
          throw new Error(
            `${path.dirname(file)} is in use by another training run (pid ${pid ?? process.pid}, ${file}): ` +
              'wait for it to finish or stop it, or choose another --out.',
          );
        }
        rmSync(file, { force: true }); // stale: its owner died without releasing it
        continue;
      }
      try {
        writeSync(fd, `${JSON.stringify({ pid: process.pid, started: new Date().toISOString() })}\n`);
      } finally {
        closeSync(fd);
      }
      return new RunLock(file);
    }
    throw new Error(`${file}: could not take the lock (another run keeps taking it); choose another --out.`);
  }

  /** Deletes the lock file (once). */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.file);
    process.removeListener('exit', this.onExit);
    try {
      if (ownerPid(this.file) === process.pid) unlinkSync(this.file);
    } catch {
      // Already gone.
    }
  }
}

/** How to treat a folder that already holds a run. */
export type ExistingRun = 'refuse' | 'resume' | 'overwrite';

/** An opened run folder: the lock, the paths, and what start-up recovery did. */
export interface RunFolder {
  readonly outDir: string;
  readonly checkpointDir: string;
  readonly metricsPath: string;
  readonly lock: RunLock;
  readonly recovery: CheckpointRecovery;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

async function nonEmpty(p: string): Promise<boolean> {
  return stat(p).then((s) => s.size > 0, () => false);
}

/**
 * Locks `outDir`, promotes the newest complete copy of an interrupted save, and applies the
 * caller's choice: 'refuse' fails on a folder that already holds a run (a checkpoint, a save's
 * leftovers or a non-empty metrics log), 'overwrite' deletes that run first, 'resume' needs a
 * checkpoint to continue from.
 */
export async function openRunFolder(outDir: string, existing: ExistingRun): Promise<RunFolder> {
  await mkdir(outDir, { recursive: true }).catch((e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code;
    // Node names the whole path; the user needs the part that is a file.
    let at = path.resolve(outDir);
    while (!existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
    throw new Error(
      code === 'EEXIST' || code === 'ENOTDIR'
        ? `--out ${outDir}: ${at} is a file where a folder is expected; choose a folder path for the run's output.`
        : `cannot create the output folder ${outDir} (${(e as Error).message}); choose a writable --out.`,
    );
  });
  const lock = RunLock.acquire(outDir);
  try {
    const checkpointDir = path.join(outDir, CHECKPOINT_SUBDIR);
    const metricsPath = path.join(outDir, METRICS_FILE);
    const hasRun = (await exists(checkpointDir)) || (await checkpointLeftovers(checkpointDir)).length > 0 || (await nonEmpty(metricsPath));
    if (hasRun && existing === 'refuse') {
      throw new Error(`${outDir} already holds a training run: pass --resume to continue it or --overwrite to start over.`);
    }
    if (existing === 'overwrite') {
      const adapters = [ADAPTER_WEIGHTS_FILE, ADAPTER_CONFIG_FILE].map((f) => path.join(outDir, f)); // a LoRA run's PEFT files
      for (const p of [checkpointDir, ...(await checkpointLeftovers(checkpointDir)), metricsPath, ...adapters]) await rm(p, { recursive: true, force: true });
      return { outDir, checkpointDir, metricsPath, lock, recovery: { removed: [] } };
    }
    const recovery = await recoverCheckpoint(checkpointDir);
    return { outDir, checkpointDir, metricsPath, lock, recovery };
  } catch (e) {
    lock.release();
    throw e;
  }
}
