/**
 * The tinygpt checkpoint folder layout and the data it holds.
 *
 *   <dir>/config.json            model config (JSON object)
 *   <dir>/model.safetensors      weights, F32 (I32 for int32 tensors)
 *   <dir>/tokenizer.json         tokenizer state (JSON object)
 *   <dir>/optimizer.safetensors  optional: Adam moments m.<name>, v.<name>; step in metadata
 *   <dir>/trainer.json           optional: trainer state (step, rng state, options, ...)
 *   <dir>/adapter_model.safetensors + adapter_config.json  optional: LoRA adapters in PEFT's format
 *   <dir>/manifest.json          written last: size and SHA-256 of every other file (checkpointManifest.ts)
 */
import type * as tf from '@tensorflow/tfjs-core';
import { MANIFEST_FILE } from './checkpointManifest.js';
import type { SafetensorsTensor, TensorData } from './safetensorsTypes.js';

export const CONFIG_FILE = 'config.json';
export const MODEL_FILE = 'model.safetensors';
export const TOKENIZER_FILE = 'tokenizer.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINER_FILE = 'trainer.json';
/** PEFT's file names, for a run that trains LoRA adapters over a frozen base (train/loraFiles.ts). */
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export { MANIFEST_FILE };

/** Every file a checkpoint folder may contain; anything else marks a folder that is not ours. */
export const CHECKPOINT_FILES: readonly string[] = [
  CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE, OPTIMIZER_FILE, TRAINER_FILE, ADAPTER_WEIGHTS_FILE, ADAPTER_CONFIG_FILE, MANIFEST_FILE,
];

/** Adam's state: the step count and the first/second moment of every parameter. */
export interface CheckpointOptimizerState {
  /** Number of updates taken (drives Adam's bias correction). */
  readonly step: number;
  /** First moments, keyed by parameter name, flat (row-major). */
  readonly m: ReadonlyMap<string, Float32Array>;
  /** Second moments, same keys and lengths as m. */
  readonly v: ReadonlyMap<string, Float32Array>;
}

/** What {@link saveCheckpoint} writes. */
export interface CheckpointInput {
  /** Model config; a JSON object (Infinity, NaN, typed arrays and Maps are rejected). */
  readonly config: object;
  /** Weights by name: live tensors (read, not disposed) or plain {shape, data} records. */
  readonly weights: ReadonlyMap<string, tf.Tensor | TensorData>;
  /** Tokenizer state; a JSON object. */
  readonly tokenizer: object;
  /** Optimizer state, saved so training can resume exactly. */
  readonly optimizer?: CheckpointOptimizerState;
  /** Trainer state (step, rng state, options, best validation loss, ...); a JSON object. */
  readonly trainer?: object;
  /**
   * LoRA adapters (PEFT key names) and their adapter_config.json, saved inside the same atomic
   * folder so weights, adapters and moments always belong to one step.
   */
  readonly adapters?: { readonly weights: ReadonlyMap<string, TensorData>; readonly config: object };
}

/** What {@link loadCheckpoint} returns; all plain data owned by the caller, no tensors. */
export interface LoadedCheckpoint {
  /** config.json, parsed; validate it with the model's config checker. */
  readonly config: Record<string, unknown>;
  /** Weights as float32/int32 records; make tensors with recordToTensors (caller disposes). */
  readonly weights: Map<string, SafetensorsTensor>;
  /** tokenizer.json, parsed. */
  readonly tokenizer: Record<string, unknown>;
  /** Present when the folder has optimizer.safetensors. */
  readonly optimizer?: { step: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> };
  /** Present when the folder has trainer.json. */
  readonly trainer?: Record<string, unknown>;
}
