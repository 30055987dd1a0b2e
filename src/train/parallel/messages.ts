import type { ResolvedGPTConfig } from '../../config/config.js';
import type { WasmPaths } from '../../wasmPaths.js';
import type { FlatLayout, SharedBuffers } from './layout.js';

/**
 * The only things that cross threads by structured clone: one init record per worker at start
 * (shared buffers are shared, not copied) and a few numbers per step each way.
 */

/** Everything a replica needs to build itself; sent once (Node: as workerData; a Web Worker: as its first message). */
export interface ReplicaInit {
  /** 0-based worker index; its gradient slot in shared.grads. */
  readonly index: number;
  /** Number of workers in the pool (for messages). */
  readonly workers: number;
  /** The model's resolved config: the replica is new GPT(config). */
  readonly config: ResolvedGPTConfig;
  /** tfjs backend the main thread runs on; the replica selects the same one. */
  readonly backend: string;
  /**
   * The wasm binaries' URLs the page gave setWasmPaths (absolute), when the backend is wasm and
   * they were set: a Web Worker cannot find them by itself (Node's replicas ignore them).
   */
  readonly wasmPaths?: WasmPaths;
  /** Weight order, shapes and offsets, shared by every thread. */
  readonly layout: FlatLayout;
  /** Weights, gradient slots, token ids and the control words. */
  readonly shared: SharedBuffers;
  /** Control words (Int32; layout in barrier.ts): the published step, the abort word, the phase flags. */
  readonly control: SharedArrayBuffer;
  /** Micro-batches per optimizer step (K). */
  readonly micro: number;
  /** AdamW's hyperparameters and the clip norm. */
  readonly hyper: FlatHyper;
  /** Sequences per micro-batch (B). */
  readonly batchSize: number;
  /** Tokens per sequence (T). */
  readonly blockSize: number;
}

/** AdamW's fixed hyperparameters, sent once (the learning rate comes with each step). */
export interface FlatHyper {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Global-norm clip (0: none). */
  readonly gradClip: number;
}

/** One unit of a worker's share: rows [rowStart, rowEnd) of micro-batch `micro`, with its dropout seed. */
export interface UnitRequest {
  readonly micro: number;
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly seed: number;
}

/** Main → worker: compute, reduce and apply step `step` for these units. */
export interface StepRequest {
  readonly type: 'step';
  /** Optimizer step number of this pool (0-based), checked against the control word. */
  readonly step: number;
  /** AdamW's t after this update (1 for a run's first step). */
  readonly t: number;
  /** Learning rate of this step (the schedule's). */
  readonly lr: number;
  /** This worker's units, in step order. */
  readonly units: readonly UnitRequest[];
}

/** Worker → main: the replica is built and its weights match the layout. */
export interface ReadyReply {
  readonly type: 'ready';
  /** tf.memory().numTensors in the worker once the replica is built. */
  readonly numTensors: number;
}

/** Worker → main: the step is applied (every worker's span of the weights is updated). */
export interface DoneReply {
  readonly type: 'done';
  /** The step this answers. */
  readonly step: number;
  /** The worker's part of the step's mean loss (Σ over its units of their weighted losses). */
  readonly loss: number;
  /** ‖g‖ of the summed gradient before clipping (every worker computes the same). */
  readonly norm: number;
  /** Where the worker's step time went, in ms (for benches: bench/train-speed.ts prints it). */
  readonly phases: StepPhases;
  /** tf.memory().numTensors in the worker after the step (must stay flat). */
  readonly numTensors: number;
}

/** A worker's step, phase by phase (ms). */
export interface StepPhases {
  /** Copying the shared weights into the replica's variables. */
  readonly load: number;
  /** Forward, backward and writing the gradient slot. */
  readonly grads: number;
  /** Waiting for the other workers (both meeting points). */
  readonly wait: number;
  /** Summing the slots over the worker's span and its Σ g². */
  readonly reduce: number;
  /** Clip and AdamW over the worker's span. */
  readonly update: number;
}

/** Worker → main: init or a step threw; the message is the cause. */
export interface FailedReply {
  readonly type: 'failed';
  readonly message: string;
}

/** Anything a worker posts. */
export type WorkerReply = ReadyReply | DoneReply | FailedReply;

/** Narrowing for messages arriving from a worker (they are untyped at the boundary). */
export function isWorkerReply(x: unknown): x is WorkerReply {
  if (x == null || typeof x !== 'object') return false;
  const t = (x as { type?: unknown }).type;
  return t === 'ready' || t === 'done' || t === 'failed';
}
