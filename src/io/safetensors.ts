/**
 * safetensors files: the byte-level reader and writer plus their file-system wrappers.
 * The format is the one Hugging Face uses for model weights, so tinygpt checkpoints can be
 * inspected and loaded by other tools, and GPT-2 weights in this format can be read.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomicWrite.js';
import { parseSafetensors } from './safetensorsParse.js';
import { serializeSafetensors } from './safetensorsSerialize.js';
import { SafetensorsError, type ParsedSafetensors, type TensorMapInput } from './safetensorsTypes.js';

export { parseSafetensors } from './safetensorsParse.js';
export { serializeSafetensors } from './safetensorsSerialize.js';
export { bfloat16ToFloat, halfToFloat } from './halfFloat.js';
export {
  SafetensorsError,
  type ParsedSafetensors,
  type SafetensorsDtype,
  type SafetensorsTensor,
  type TensorData,
  type TensorMapInput,
} from './safetensorsTypes.js';

/** Reads and validates a safetensors file; errors name the path and the fault. */
export async function readSafetensors(file: string): Promise<ParsedSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new SafetensorsError(file, `cannot read safetensors file (${why}).`);
  }
  return parseSafetensors(bytes, file);
}

/**
 * Writes tensors (Float32Array → F32, Int32Array → I32) as a safetensors file, atomically:
 * a temp file in the same directory is fsynced and renamed over `file`, so an interrupted
 * write leaves the previous file intact.
 */
export async function writeSafetensors(
  file: string,
  tensors: TensorMapInput,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata, file));
}
