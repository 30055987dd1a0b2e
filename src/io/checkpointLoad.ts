import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import {
  CONFIG_FILE,
  MODEL_FILE,
  OPTIMIZER_FILE,
  TOKENIZER_FILE,
  TRAINER_FILE,
  type LoadedCheckpoint,
} from './checkpointTypes.js';
import { readJsonObject } from './jsonFile.js';
import { readSafetensors } from './safetensors.js';

async function fileExists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** A missing folder may be mid-swap: an interrupted save leaves complete copies at <dir>.tmp-* / <dir>.old-*. */
async function missingFolderError(target: string): Promise<Error> {
  const base = path.basename(target);
  let stranded: string[] = [];
  try {
    stranded = (await readdir(path.dirname(target))).filter((f) => f.startsWith(`${base}.old-`) || f.startsWith(`${base}.tmp-`));
  } catch {
    // The parent is missing too; nothing to point at.
  }
  const hint =
    stranded.length > 0
      ? ` A save was interrupted and left ${path.join(path.dirname(target), stranded[0])}: ` +
        '`tinygpt train --resume` (or recoverCheckpoint) restores the newest complete copy.'
      : ' Check the path.';
  return new Error(`${target} is not a tinygpt checkpoint: the folder does not exist.${hint}`);
}

function splitMoments(
  tensors: Map<string, { data: Float32Array | Int32Array }>,
  file: string,
): { m: Map<string, Float32Array>; v: Map<string, Float32Array> } {
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const [key, t] of tensors) {
    const kind = key.slice(0, 2);
    if ((kind !== 'm.' && kind !== 'v.') || !(t.data instanceof Float32Array)) {
      throw new Error(`${file}: unexpected tensor "${key}"; expected float tensors named m.<param> and v.<param>.`);
    }
    (kind === 'm.' ? m : v).set(key.slice(2), t.data);
  }
  for (const name of new Set([...m.keys(), ...v.keys()])) {
    if (!m.has(name) || !v.has(name)) {
      throw new Error(`${file}: parameter "${name}" has only ${m.has(name) ? 'm' : 'v'}; the file is incomplete or corrupt.`);
    }
  }
  return { m, v };
}

/**
 * Reads a checkpoint folder written by saveCheckpoint. Everything returned is plain data
 * owned by the caller (no tensors are created; use recordToTensors for the weights).
 * Missing required files, malformed JSON and corrupt safetensors throw errors naming the
 * file and the fault.
 */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const target = path.resolve(dir);
  let isDir: boolean;
  try {
    isDir = (await stat(target)).isDirectory();
  } catch {
    throw await missingFolderError(target);
  }
  if (!isDir) throw new Error(`${target} is not a tinygpt checkpoint: it is a file, not a folder.`);
  const at = (f: string): string => path.join(target, f);
  const config = await readJsonObject(at(CONFIG_FILE));
  if (config === null) throw new Error(`${target} is not a tinygpt checkpoint: ${CONFIG_FILE} missing.`);
  const tokenizer = await readJsonObject(at(TOKENIZER_FILE));
  if (tokenizer === null) throw new Error(`checkpoint ${target} is incomplete: ${TOKENIZER_FILE} missing.`);
  if (!(await fileExists(at(MODEL_FILE)))) throw new Error(`checkpoint ${target} is incomplete: ${MODEL_FILE} missing.`);
  const weights = (await readSafetensors(at(MODEL_FILE))).tensors;
  let optimizer: LoadedCheckpoint['optimizer'];
  if (await fileExists(at(OPTIMIZER_FILE))) {
    const { tensors, metadata } = await readSafetensors(at(OPTIMIZER_FILE));
    const step = Number(metadata.step);
    if (metadata.step === undefined || !/^\d+$/.test(metadata.step) || !Number.isSafeInteger(step)) {
      throw new Error(`${at(OPTIMIZER_FILE)}: metadata "step" must be a non-negative integer, got ${JSON.stringify(metadata.step)}.`);
    }
    optimizer = { step, ...splitMoments(tensors, at(OPTIMIZER_FILE)) };
  }
  const trainer = await readJsonObject(at(TRAINER_FILE));
  return {
    config,
    weights,
    tokenizer,
    ...(optimizer !== undefined ? { optimizer } : {}),
    ...(trainer !== null ? { trainer } : {}),
  };
}
