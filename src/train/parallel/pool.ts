import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../../model/types.js';
import type { AccumulatedGradients } from '../accumulate.js';
import { allocShared, flatLayout, shareOf, type FlatLayout, type SharedBuffers } from './layout.js';
import { isWorkerReply, type DoneReply, type ReplicaInit } from './messages.js';
import { causeOf, type ReplicaThread, type SpawnReplica, type ThreadEvent } from './thread.js';

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
  /** Replica threads (2 or more; each gets a contiguous range of micro-batches). */
  readonly workers: number;
  /** Micro-batches per step (K >= workers). */
  readonly micro: number;
  /** Sequences per micro-batch (B). */
  readonly batchSize: number;
  /** Tokens per sequence (T). */
  readonly blockSize: number;
  /** Starts one thread (Node: spawnNodeReplica). */
  readonly spawn: SpawnReplica;
}

interface Pending {
  resolve(reply: unknown): void;
  reject(err: Error): void;
}

/**
 * Data parallelism over replica threads. A step: the main thread writes the current weights
 * and the step's K micro-batches (drawn in order, as one thread would) into shared memory;
 * worker w computes Σₖ ∂(Lₖ/K)/∂w over its range into its own slot; the main thread sums the
 * slots in worker order, so the result equals one thread's accumulation to float rounding.
 * The optimizer step stays on the main thread, whose weights the next step publishes.
 */
export class DataParallel {
  /** Last numTensors each worker reported (index = worker); flat from step to step. */
  readonly tensorCounts: number[];
  private readonly pending: (Pending | null)[];
  private readonly dead: (string | null)[];
  private readonly weightView: Float32Array;
  private readonly gradViews: Float32Array[];
  private readonly tokenView: Int32Array;
  private readonly control: Int32Array;
  private threads: ReplicaThread[] = [];
  private closing = false;

  private constructor(
    private readonly model: LanguageModel,
    private readonly layout: FlatLayout,
    shared: SharedBuffers,
    controlBuffer: SharedArrayBuffer,
    private readonly o: PoolOptions,
  ) {
    const n = o.workers;
    this.tensorCounts = new Array<number>(n).fill(0);
    this.pending = new Array<Pending | null>(n).fill(null);
    this.dead = new Array<string | null>(n).fill(null);
    this.weightView = new Float32Array(shared.weights);
    this.gradViews = Array.from({ length: n }, (_, w) => new Float32Array(shared.grads, w * layout.total * 4, layout.total));
    this.tokenView = new Int32Array(shared.tokens);
    this.control = new Int32Array(controlBuffer);
  }

  /** Starts the threads and waits until every replica is built (or fails with the cause). */
  static async start(model: LanguageModel, o: PoolOptions): Promise<DataParallel> {
    if (!Number.isInteger(o.workers) || o.workers < 2 || o.workers > o.micro) {
      throw new Error(`DataParallel: workers must be an integer in [2, ${o.micro}] (micro-batches per step), got ${o.workers}.`);
    }
    const layout = flatLayout([...model.namedWeights()].map(([n, v]) => [n, v.shape] as const));
    const shared = allocShared(layout, o.workers, o.micro, o.batchSize * o.blockSize);
    const control = new SharedArrayBuffer((1 + o.workers) * Int32Array.BYTES_PER_ELEMENT);
    const pool = new DataParallel(model, layout, shared, control, o);
    const ready = pool.expectAll();
    for (let w = 0; w < o.workers; w++) {
      const init: ReplicaInit = {
        index: w,
        workers: o.workers,
        config: model.config,
        backend: tf.getBackend(),
        layout,
        shared,
        control,
        micro: o.micro,
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

  /**
   * The step's mean-loss gradient over K micro-batches. `draw(k)` is called for k = 0..K-1 in
   * order on this thread (batch then seed, exactly as without workers). On any worker fault
   * every thread is stopped and the error names the worker and the cause.
   */
  async gradients(step: number, draw: (k: number) => MicroBatch): Promise<AccumulatedGradients> {
    if (this.threads.length === 0) throw new Error('DataParallel: the pool was stopped; start a new one.');
    const { micro: K, batchSize: B, blockSize: T, workers: N } = this.o;
    const weights = this.model.namedWeights();
    for (const e of this.layout.entries) this.weightView.set((weights.get(e.name) as tf.Variable).dataSync(), e.offset);
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
    Atomics.store(this.control, 0, step); // publishes weights and tokens (a fence)
    const done = this.expectAll();
    for (let w = 0; w < N; w++) {
      const [start, end] = shareOf(w, N, K);
      this.threads[w].post({ type: 'step', step, start, end, seeds: seeds.slice(start, end) });
    }
    let replies: DoneReply[];
    try {
      replies = (await done) as DoneReply[];
    } catch (err) {
      await this.dispose();
      throw err;
    }
    return this.sum(replies, step);
  }

  /** Stops every thread and waits until all are gone. */
  async dispose(): Promise<void> {
    this.closing = true;
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map((t) => t.terminate()));
  }

  private sum(replies: readonly DoneReply[], step: number): AccumulatedGradients {
    for (let w = 0; w < replies.length; w++) {
      // Reading the control word each worker stored after writing its slot (a fence).
      if (Atomics.load(this.control, 1 + w) !== step) throw new Error(`DataParallel: worker ${w + 1} replied before publishing step ${step}.`);
    }
    const total = Float32Array.from(this.gradViews[0]);
    for (let w = 1; w < replies.length; w++) {
      const g = this.gradViews[w];
      for (let i = 0; i < total.length; i++) total[i] += g[i];
    }
    let loss = 0;
    for (const r of replies) loss += r.loss;
    replies.forEach((r, w) => (this.tensorCounts[w] = r.numTensors));
    const missingEverywhere = new Set(replies[0].missing.filter((n) => replies.every((r) => r.missing.includes(n))));
    const grads = new Map<string, tf.Tensor>();
    for (const e of this.layout.entries) {
      if (!missingEverywhere.has(e.name)) grads.set(e.name, tf.tensor(total.subarray(e.offset, e.offset + e.size), [...e.shape], 'float32')); // like the weight
    }
    return { grads, loss: tf.scalar(loss) };
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
    const p = this.pending[w];
    this.pending[w] = null;
    p?.reject(this.fault(w, cause));
  }
}
