import * as tf from '@tensorflow/tfjs-core';
import { GPT } from '../../model/gpt.js';
import type { LanguageModel } from '../../model/types.js';
import type { AdamW } from '../adamw.js';
import { DataParallel } from './pool.js';
import type { SpawnReplica } from './thread.js';
import { spawnWebReplica } from './webThread.js';

/**
 * Node-only modules, loaded through variable specifiers that bundlers do not follow, so the
 * browser-safe 'tinygpt' entry (which has the Trainer) pulls in no node: module.
 */
const NODE_OS = 'node:os';
const NODE_THREAD = './nodeThread.js';

/** Backends whose kernels run on the calling thread, so more threads mean more cores used. */
const SINGLE_THREADED = ['wasm', 'cpu'];

/** True under Node (and runtimes with its worker_threads, such as Bun and Deno); false in a browser. */
function onNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';
}

/**
 * Why replica threads cannot start in this browser context, with the fix, or null when they can.
 * SharedArrayBuffer, which every replica's memory is, exists only in a cross-origin-isolated page.
 */
function webThreadsBlocked(): string | null {
  const g = globalThis as { Worker?: unknown; crossOriginIsolated?: unknown };
  if (typeof g.Worker !== 'function') return 'this browser context has no Web Workers; set workers: 1.';
  if (typeof SharedArrayBuffer === 'undefined' || g.crossOriginIsolated !== true) {
    return (
      'the page is not cross-origin isolated, so it has no SharedArrayBuffer for the replicas to share. Serve it with the headers ' +
      '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp", or set workers: 1.'
    );
  }
  return null;
}

/** Cores the process may use: os.availableParallelism in Node, hardwareConcurrency in a browser. */
async function availableCores(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (typeof nav?.hardwareConcurrency === 'number') return nav.hardwareConcurrency;
  const os = (await import(/* @vite-ignore */ NODE_OS)) as typeof import('node:os');
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * The worker count a run uses. 'auto' is one per available core on wasm and cpu, capped by
 * the rows per step (a worker needs at least one sequence: `rows` = batchSize · gradAccumSteps),
 * and 1 elsewhere (tfjs-node already spreads each kernel over its own thread pool).
 */
export async function resolveWorkers(requested: number | 'auto', rows: number, backend: string = tf.getBackend()): Promise<number> {
  if (requested !== 'auto') return Math.min(requested, rows);
  if (!SINGLE_THREADED.includes(backend)) return 1;
  return Math.max(1, Math.min(await availableCores(), rows));
}

/** What startDataParallel needs from the train options. */
export interface ParallelRun {
  /** Requested workers (TrainOptions.workers). */
  readonly workers: number | 'auto';
  /** Micro-batches per step (TrainOptions.gradAccumSteps). */
  readonly gradAccumSteps: number;
  /** Sequences per micro-batch. */
  readonly batchSize: number;
  /** Tokens per sequence. */
  readonly blockSize: number;
  /** Global-norm clip (0: none), applied by the workers. */
  readonly gradClip: number;
}

/**
 * Starts a pool when the run uses 2 or more workers, else returns null (the trainer then
 * accumulates on its own thread). The pool starts from the model's weights and `optimizer`'s state.
 * Threads are Node's worker_threads (loaded only here, on demand) or, in a browser, module Web
 * Workers; a page that is not cross-origin isolated runs 'auto' on one thread.
 */
export async function startDataParallel(
  model: LanguageModel,
  optimizer: AdamW,
  run: ParallelRun,
  spawn?: SpawnReplica,
): Promise<DataParallel | null> {
  // A replica is new GPT(config): 'auto' keeps any other LanguageModel on this thread, while an
  // explicit count makes the replicas report the first weight they cannot reproduce.
  const replicable = model instanceof GPT;
  const web = spawn === undefined && !onNode();
  const blocked = web ? webThreadsBlocked() : null;
  const single = run.workers === 'auto' && (!replicable || blocked !== null);
  const workers = single ? 1 : await resolveWorkers(run.workers, run.gradAccumSteps * run.batchSize);
  if (workers < 2) return null;
  if (blocked !== null) throw new Error(`workers: ${workers} needs replica threads, but ${blocked}`);
  if (typeof SharedArrayBuffer === 'undefined') {
    throw new Error('workers: SharedArrayBuffer is unavailable here (a browser page must be cross-origin isolated); set workers: 1.');
  }
  const spawner = spawn ?? (web ? spawnWebReplica : ((await import(/* @vite-ignore */ NODE_THREAD)) as typeof import('./nodeThread.js')).spawnNodeReplica);
  return DataParallel.start(model, optimizer, {
    workers,
    micro: run.gradAccumSteps,
    batchSize: run.batchSize,
    blockSize: run.blockSize,
    gradClip: run.gradClip,
    spawn: spawner,
  });
}
