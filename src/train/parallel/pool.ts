import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../../model/types.js';
import { wasmPathsSet } from '../../wasmPaths.js';
import type { AdamW, AdamWState } from '../adamw.js';
import { controlWords, PHASE, phaseIndex } from './barrier.js';
import { allocShared, assignFromFlat, flatLayout, flatViews, type FlatLayout, type SharedBuffers } from './layout.js';
import { isWorkerReply, type DoneReply, type FlatHyper, type ReplicaInit, type StepPhases } from './messages.js';
import { causeOf, type ReplicaThread, type SpawnReplica, type ThreadEvent } from './thread.js';
import { shardSeed, stepUnits, type WorkUnit } from './units.js';

/** One drawn micro-batch: its tokens (the pool reads and frees them) and its dropout seed. */
export interface MicroBatch {
  /** Inputs, int32 (B, T). */
  readonly x: tf.Tensor2D;
  /** Next-token targets, int32 (B, T). */
  readonly y: tf.Tensor2D;
  /** Dropout seed of this micro-batch. */
  readonly seed: number;
}

/** How to start a pool. */
export interface PoolOptions {
  /** Replica threads (2 or more, at most K·B: each needs a row). */
  readonly workers: number;
  /** Micro-batches per step (K). */
  readonly micro: number;
  /** Sequences per micro-batch (B). */
  readonly batchSize: number;
  /** Tokens per sequence (T). */
  readonly blockSize: number;
  /** Global-norm clip applied by the workers (0: none). */
  readonly gradClip: number;
  /** Starts one thread (Node: spawnNodeReplica). */
  readonly spawn: SpawnReplica;
}

/** What a step reports: the mean loss and ‖g‖ before clipping. */
export interface PoolStep {
  readonly loss: number;
  readonly norm: number;
}

interface Pending {
  resolve(reply: unknown): void;
  reject(err: Error): void;
}

/**
 * Data parallelism over replica threads, with the optimizer in shared memory. Starting copies
 * the model's weights and the optimizer's moments into flat shared buffers. A step: the main
 * thread draws the K micro-batches (in order, as one thread would) into shared memory and posts
 * each worker its units (micro-batches, or row shards of them when workers > K); the workers
 * compute their gradients, sum them span by span, and clip and apply AdamW to their own span
 * (replica.ts), so nothing of the update runs on this thread. The model and the optimizer hold
 * the run's state again after {@link syncTo}, which the trainer calls before anyone reads them.
 */
export class DataParallel {
  /** Last numTensors each worker reported (index = worker); flat from step to step. */
  readonly tensorCounts: number[];
  /** Where each worker's last step went (index = worker), for benches. */
  lastPhases: readonly StepPhases[] = [];
  private readonly pending: (Pending | null)[];
  private readonly dead: (string | null)[];
  private readonly params: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly tokenView: Int32Array;
  private readonly control: Int32Array;
  private readonly units: WorkUnit[][];
  private threads: ReplicaThread[] = [];
  private closing = false;
  private steps = 0;
  private t: number;

  private constructor(
    private readonly layout: FlatLayout,
    shared: SharedBuffers,
    controlBuffer: SharedArrayBuffer,
    private readonly o: PoolOptions,
    t: number,
  ) {
    const n = o.workers;
    this.tensorCounts = new Array<number>(n).fill(0);
    this.pending = new Array<Pending | null>(n).fill(null);
    this.dead = new Array<string | null>(n).fill(null);
    const views = flatViews(shared.flat, layout.total, n);
    this.params = views.params;
    this.m = views.m;
    this.v = views.v;
    this.tokenView = new Int32Array(shared.tokens);
    this.control = new Int32Array(controlBuffer);
    this.units = stepUnits(n, o.micro, o.batchSize);
    this.t = t;
  }

  /**
   * Starts the threads from the model's weights and the optimizer's state (the optimizer must
   * train exactly model.namedWeights()), and waits until every replica is built.
   */
  static async start(model: LanguageModel, optimizer: AdamW, o: PoolOptions): Promise<DataParallel> {
    const rows = o.micro * o.batchSize;
    if (!Number.isInteger(o.workers) || o.workers < 2 || o.workers > rows) {
      throw new Error(`DataParallel: workers must be an integer in [2, ${rows}] (rows per step), got ${o.workers}.`);
    }
    const weights = model.namedWeights();
    const layout = flatLayout([...weights].map(([n, v]) => [n, v.shape] as const));
    const shared = allocShared(layout, o.workers, o.micro, o.batchSize * o.blockSize);
    const control = new SharedArrayBuffer(controlWords(o.workers) * Int32Array.BYTES_PER_ELEMENT);
    const state = optimizer.getState();
    const pool = new DataParallel(layout, shared, control, o, state.step);
    for (const e of layout.entries) {
      pool.params.set((weights.get(e.name) as tf.Variable).dataSync(), e.offset);
      pool.m.set(state.m.get(e.name) as Float32Array, e.offset);
      pool.v.set(state.v.get(e.name) as Float32Array, e.offset);
    }
    const { beta1, beta2, eps, weightDecay } = optimizer.options;
    const hyper: FlatHyper = { beta1, beta2, eps, weightDecay, gradClip: o.gradClip };
    const ready = pool.expectAll();
    for (let w = 0; w < o.workers; w++) {
      const init: ReplicaInit = {
        index: w,
        workers: o.workers,
        config: model.config,
        backend: tf.getBackend(),
        wasmPaths: tf.getBackend() === 'wasm' ? wasmPathsSet() : undefined,
        layout,
        shared,
        control,
        micro: o.micro,
        hyper,
        batchSize: o.batchSize,
        blockSize: o.blockSize,
      };
      pool.threads.push(o.spawn(init, (e) => pool.onEvent(w, e)));
    }
    try {
      const replies = await ready;
      replies.forEach((r, w) => (pool.tensorCounts[w] = (r as { numTensors: number }).numTensors));
    } catch (err) {
      await pool.dispose();
      throw err;
    }
    return pool;
  }

  /** Worker count. */
  get workers(): number {
    return this.o.workers;
  }

  /** True while every thread runs (false once stopped or after any fault). */
  get alive(): boolean {
    return this.threads.length > 0 && this.dead.every((d) => d === null);
  }

  /**
   * One optimizer step at rate lr. `draw(k)` is called for k = 0..K-1 in order on this thread
   * (batch then seed, exactly as without workers). On any worker fault every thread is stopped
   * and the error names the worker and the cause.
   */
  async step(lr: number, draw: (k: number) => MicroBatch): Promise<PoolStep> {
    if (this.threads.length === 0) throw new Error('DataParallel: the pool was stopped; start a new one.');
    const { micro: K, batchSize: B, blockSize: T, workers: N } = this.o;
    const seeds: number[] = [];
    for (let k = 0; k < K; k++) {
      const { x, y, seed } = draw(k);
      try {
        if (x.shape[0] !== B || x.shape[1] !== T || y.shape[0] !== B || y.shape[1] !== T) {
          throw new Error(`DataParallel: micro-batch ${k} is [${x.shape}] / [${y.shape}], expected [${B}, ${T}] each.`);
        }
        this.tokenView.set(x.dataSync(), 2 * k * B * T);
        this.tokenView.set(y.dataSync(), (2 * k + 1) * B * T);
      } finally {
        tf.dispose([x, y]);
      }
      seeds.push(seed);
    }
    const step = this.steps;
    Atomics.store(this.control, 0, step + 1); // publishes the tokens (a fence)
    const done = this.expectAll();
    for (let w = 0; w < N; w++) {
      const units = this.units[w].map((u) => ({ micro: u.micro, rowStart: u.rowStart, rowEnd: u.rowEnd, seed: shardSeed(seeds[u.micro], u.shard) }));
      this.threads[w].post({ type: 'step', step, t: this.t + 1, lr, units });
    }
    let replies: DoneReply[];
    try {
      replies = (await done) as DoneReply[];
    } catch (err) {
      await this.dispose();
      throw err;
    }
    for (let w = 0; w < N; w++) {
      // Reading the flag each worker stored after updating its span (a fence for those writes).
      if (Atomics.load(this.control, phaseIndex(PHASE.updated, w, N)) !== step + 1) {
        await this.dispose();
        throw new Error(`DataParallel: worker ${w + 1} replied before publishing its update of step ${step}.`);
      }
    }
    this.steps += 1;
    this.t += 1;
    let loss = 0;
    for (const r of replies) loss += r.loss;
    replies.forEach((r, w) => (this.tensorCounts[w] = r.numTensors));
    this.lastPhases = replies.map((r) => r.phases);
    return { loss, norm: replies[0].norm };
  }

  /** Copies the run's weights into `weights` (the model's variables) and its moments into `optimizer`. */
  syncTo(weights: ReadonlyMap<string, tf.Variable>, optimizer?: AdamW): void {
    assignFromFlat(this.layout, this.params, weights);
    optimizer?.setState(this.optimizerState());
  }

  /** The optimizer's state as the workers left it (plain arrays, for a checkpoint). */
  optimizerState(): AdamWState {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const e of this.layout.entries) {
      m.set(e.name, this.m.slice(e.offset, e.offset + e.size));
      v.set(e.name, this.v.slice(e.offset, e.offset + e.size));
    }
    return { step: this.t, m, v };
  }

  /** Stops every thread and waits until all are gone. */
  async dispose(): Promise<void> {
    this.closing = true;
    Atomics.store(this.control, 1, 1); // a replica waiting for the others gives up
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map((t) => t.terminate()));
  }

  /** A promise for one reply from every worker; a fault of any worker rejects it. */
  private expectAll(): Promise<unknown[]> {
    return Promise.all(
      this.pending.map(
        (_, w) =>
          new Promise<unknown>((resolve, reject) => {
            if (this.dead[w] !== null) reject(this.fault(w, this.dead[w] as string));
            else this.pending[w] = { resolve, reject };
          }),
      ),
    );
  }

  private fault(w: number, cause: string): Error {
    return new Error(`workers: worker ${w + 1} of ${this.o.workers} failed: ${cause.replace(/\.$/, '')}. Training stopped; the last checkpoint is unchanged.`);
  }

  private onEvent(w: number, e: ThreadEvent): void {
    let cause: string | null = null;
    if (e.kind === 'message') {
      if (!isWorkerReply(e.data)) cause = 'it sent an unknown message';
      else if (e.data.type === 'failed') cause = e.data.message;
      else {
        const p = this.pending[w];
        this.pending[w] = null;
        p?.resolve(e.data);
        return;
      }
    } else if (e.kind === 'error') {
      cause = `it threw ${causeOf(e.error)}`;
    } else if (!this.closing || this.pending[w] !== null) {
      cause = `its thread exited with code ${e.code}`;
    }
    if (cause === null || this.dead[w] !== null) return;
    this.dead[w] = cause;
    // The others may be waiting for this one inside the step: let them stop.
    Atomics.store(this.control, 1, 1);
    const p = this.pending[w];
    this.pending[w] = null;
    p?.reject(this.fault(w, cause));
  }
}
