import type { ResolvedGPTConfig } from '../../config/config.js';
import type { FlatLayout, SharedBuffers } from './layout.js';

/**
 * The only things that cross threads by structured clone: one init record per worker at start
 * (shared buffers are shared, not copied) and a few numbers per step each way.
 */

/** Everything a replica needs to build itself; sent once, as workerData. */
export interface ReplicaInit {
  /** 0-based worker index; its gradient slot in shared.grads. */
  readonly index: number;
  /** Number of workers in the pool (for messages). */
  readonly workers: number;
  /** The model's resolved config: the replica is new GPT(config). */
  readonly config: ResolvedGPTConfig;
  /** tfjs backend the main thread runs on; the replica selects the same one. */
  readonly backend: string;
  /** Weight order, shapes and offsets, shared by every thread. */
  readonly layout: FlatLayout;
  /** Weights, gradient slots, token ids and the control words. */
  readonly shared: SharedBuffers;
  /** Control words (Int32): [0] step whose weights and tokens are written, [1 + w] step worker w finished. */
  readonly control: SharedArrayBuffer;
  /** Micro-batches per optimizer step (K). */
  readonly micro: number;
  /** Sequences per micro-batch (B). */
  readonly batchSize: number;
  /** Tokens per sequence (T). */
  readonly blockSize: number;
}

/** Main → worker: compute the gradient of micro-batches [start, end) of step `step`. */
export interface StepRequest {
  readonly type: 'step';
  /** Optimizer step number (0-based), checked against the control word. */
  readonly step: number;
  /** First micro-batch of this worker's share. */
  readonly start: number;
  /** One past the last micro-batch of this worker's share. */
  readonly end: number;
  /** Dropout seed of each micro-batch in [start, end), drawn by the main thread in order. */
  readonly seeds: readonly number[];
}

/** Worker → main: the replica is built and its weights match the layout. */
export interface ReadyReply {
  readonly type: 'ready';
  /** tf.memory().numTensors in the worker once the replica is built. */
  readonly numTensors: number;
}

/** Worker → main: the share's gradient is in the worker's slot. */
export interface DoneReply {
  readonly type: 'done';
  /** The step this answers. */
  readonly step: number;
  /** Σ over the share of Lₖ / K (the share's part of the step's mean loss). */
  readonly loss: number;
  /** Weights the loss does not depend on (their slot holds zeros). */
  readonly missing: readonly string[];
  /** tf.memory().numTensors in the worker after the step (must stay flat). */
  readonly numTensors: number;
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
