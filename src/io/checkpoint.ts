/**
 * Saving a checkpoint folder (layout in checkpointTypes.ts); loading is in checkpointLoad.ts.
 *
 * Crash safety: the new checkpoint is built completely in a sibling folder
 * `<dir>.tmp-<pid>-<n>` (every file fsynced, manifest.json with sizes and checksums written
 * last), then swapped in
 * with two renames: `<dir>` → `<dir>.old-<pid>-<n>`, then the temp folder → `<dir>`, and
 * only then is the old folder deleted. An interruption at any point leaves either the
 * previous complete checkpoint at `<dir>`, the new complete one at `<dir>`, or (between
 * the two renames) the previous one intact at `<dir>.old-*`, which loadCheckpoint points
 * to. The previous checkpoint is never modified in place. Saves to the same folder must
 * not run concurrently. recoverCheckpoint (checkpointRecover.ts) promotes the newest complete
 * copy on the next start, proven complete by its manifest.
 */
import * as tf from '@tensorflow/tfjs-core';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { syncDir, tempSibling, writeDurable } from './atomicWrite.js';
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  CHECKPOINT_FILES,
  CONFIG_FILE,
  MODEL_FILE,
  OPTIMIZER_FILE,
  TOKENIZER_FILE,
  TRAINER_FILE,
  type CheckpointInput,
  type CheckpointOptimizerState,
} from './checkpointTypes.js';
import { manifestText, MANIFEST_FILE } from './checkpointManifest.js';
import { toJsonText } from './jsonFile.js';
import { serializeSafetensors } from './safetensorsSerialize.js';
import { numElements, type TensorData } from './safetensorsTypes.js';
import { tensorsToRecord } from './tensorRecord.js';

export { loadCheckpoint } from './checkpointLoad.js';
export type { CheckpointInput, LoadedCheckpoint, CheckpointOptimizerState } from './checkpointTypes.js';

async function weightsRecord(
  weights: ReadonlyMap<string, tf.Tensor | TensorData>,
): Promise<Map<string, TensorData>> {
  if (!(weights instanceof Map)) throw new Error('saveCheckpoint: weights must be a Map from name to tensor.');
  const out = new Map<string, TensorData>();
  for (const [name, w] of weights) {
    if (w instanceof tf.Tensor) {
      const [record] = (await tensorsToRecord(new Map([[name, w]]))).values();
      out.set(name, record);
    } else {
      out.set(name, w);
    }
  }
  return out;
}

/** Adam moments as one tensor map, shaped like their weights so the file reads naturally. */
function optimizerTensors(opt: CheckpointOptimizerState, weights: ReadonlyMap<string, TensorData>): Map<string, TensorData> {
  if (!Number.isSafeInteger(opt.step) || opt.step < 0) {
    throw new Error(`saveCheckpoint: optimizer.step must be a non-negative integer, got ${String(opt.step)}.`);
  }
  if (!(opt.m instanceof Map) || !(opt.v instanceof Map)) {
    throw new Error('saveCheckpoint: optimizer.m and optimizer.v must be Maps from parameter name to Float32Array.');
  }
  const out = new Map<string, TensorData>();
  for (const [kind, moments, other] of [['m', opt.m, opt.v], ['v', opt.v, opt.m]] as const) {
    for (const [name, data] of moments) {
      const twin = other.get(name);
      if (twin === undefined) {
        throw new Error(`saveCheckpoint: optimizer.${kind} has "${name}" but optimizer.${kind === 'm' ? 'v' : 'm'} does not; both need the same parameters.`);
      }
      if (!(data instanceof Float32Array) || !(twin instanceof Float32Array) || data.length !== twin.length) {
        throw new Error(`saveCheckpoint: optimizer moments of "${name}" must be Float32Arrays of equal length.`);
      }
      const w = weights.get(name);
      if (w !== undefined && numElements(w.shape) !== data.length) {
        throw new Error(
          `saveCheckpoint: optimizer.${kind} of "${name}" has ${data.length} values but the weight has shape ${JSON.stringify(w.shape)}.`,
        );
      }
      out.set(`${kind}.${name}`, { shape: w !== undefined ? w.shape : [data.length], data });
    }
  }
  return out;
}

/** Serializes everything in memory first, so bad input fails before the disk is touched. */
async function encodeFiles(data: CheckpointInput): Promise<[string, Uint8Array | string][]> {
  if (data === null || typeof data !== 'object') throw new Error('saveCheckpoint: expected { config, weights, tokenizer, ... }.');
  const weights = await weightsRecord(data.weights);
  const files: [string, Uint8Array | string][] = [
    [CONFIG_FILE, toJsonText(data.config, `checkpoint ${CONFIG_FILE}`)],
    [TOKENIZER_FILE, toJsonText(data.tokenizer, `checkpoint ${TOKENIZER_FILE}`)],
    [MODEL_FILE, serializeSafetensors(weights, { producer: 'tinygpt' }, MODEL_FILE)],
  ];
  if (data.optimizer !== undefined) {
    const moments = optimizerTensors(data.optimizer, weights);
    files.push([OPTIMIZER_FILE, serializeSafetensors(moments, { step: String(data.optimizer.step) }, OPTIMIZER_FILE)]);
  }
  if (data.adapters !== undefined) {
    files.push([ADAPTER_WEIGHTS_FILE, serializeSafetensors(new Map(data.adapters.weights), { format: 'pt' }, ADAPTER_WEIGHTS_FILE)]);
    files.push([ADAPTER_CONFIG_FILE, toJsonText(data.adapters.config, `checkpoint ${ADAPTER_CONFIG_FILE}`)]);
  }
  // Last, so even inside the temp folder its presence means every other file is complete.
  if (data.trainer !== undefined) files.push([TRAINER_FILE, toJsonText(data.trainer, `checkpoint ${TRAINER_FILE}`)]);
  // The manifest goes last of all: its presence, with matching sizes and digests, proves the folder whole.
  files.push([MANIFEST_FILE, manifestText(files)]);
  return files;
}

/** Whether `target` exists; throws if it exists but must not be replaced. */
async function checkReplaceable(target: string): Promise<boolean> {
  let isDir: boolean;
  try {
    isDir = (await lstat(target)).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  if (!isDir) throw new Error(`saveCheckpoint: ${target} exists and is not a folder; choose another checkpoint path.`);
  const foreign = (await readdir(target)).filter((f) => !CHECKPOINT_FILES.includes(f));
  if (foreign.length > 0) {
    throw new Error(
      `saveCheckpoint: ${target} holds files that are not part of a tinygpt checkpoint (${foreign.slice(0, 5).join(', ')}); ` +
        'refusing to replace it. Move them away or choose an empty or new folder.',
    );
  }
  return true;
}

// Counts two-rename swaps, for the crash test hook below.
let swaps = 0;

/**
 * Test hook: TINYGPT_TEST_KILL_BETWEEN_RENAMES=N makes the process kill itself with SIGKILL
 * (as `kill -9` would) between the two renames of its N-th swap, so a test in a child process
 * can leave exactly the state a crash there leaves. Unset, it does nothing.
 */
function crashHook(): void {
  swaps += 1;
  const at = process.env.TINYGPT_TEST_KILL_BETWEEN_RENAMES;
  if (at !== undefined && at !== '' && Number(at) === swaps) process.kill(process.pid, 'SIGKILL');
}

/**
 * Writes a checkpoint folder at `dir`, replacing any previous checkpoint there atomically
 * (see the file comment for the scheme). Tensors in `data.weights` are read, not disposed.
 * Refuses to replace a folder holding files other than checkpoint files.
 */
export async function saveCheckpoint(dir: string, data: CheckpointInput): Promise<void> {
  const target = path.resolve(dir);
  const files = await encodeFiles(data);
  const exists = await checkReplaceable(target);
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = tempSibling(target, 'tmp');
  try {
    await mkdir(tmp);
    for (const [name, contents] of files) await writeDurable(path.join(tmp, name), contents);
    await syncDir(tmp);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  if (!exists) {
    await rename(tmp, target).catch(async (e: unknown) => {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    });
  } else {
    const old = tempSibling(target, 'old');
    await rename(target, old).catch(async (e: unknown) => {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    });
    crashHook();
    try {
      await rename(tmp, target);
    } catch (e) {
      // Put the previous checkpoint back so a failed save changes nothing.
      await rename(old, target).catch(() => undefined);
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    await rm(old, { recursive: true, force: true });
  }
  await syncDir(path.dirname(target));
}
