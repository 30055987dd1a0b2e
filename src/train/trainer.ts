import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../model/types.js';
import { createRng, type Rng, type RngState } from '../util/rng.js';
import { accumulateGradients } from './accumulate.js';
import { AdamW, type AdamWState } from './adamw.js';
import type { StepPhases } from './parallel/messages.js';
import type { DataParallel, MicroBatch } from './parallel/pool.js';
import { startDataParallel } from './parallel/start.js';
import { estimateLoss, type BatchSource } from './evaluate.js';
import { resolveTrainOptions, type ResolvedTrainOptions, type TrainOptions } from './options.js';
import type { EvalRecord, StepRecord, TrainRecord } from './records.js';
import { trainedWeights } from './lora.js';
import { getLr } from './schedule.js';
import { applyUpdate, readStep, type StepTensors } from './update.js';

/** Everything besides the model weights that a run needs to continue exactly: plain data. */
export interface TrainerState {
  /** Optimizer steps completed. */
  readonly step: number;
  /** Training Rng (batch sampling and dropout seeds). */
  readonly rng: RngState;
  /** Evaluation Rng (evaluation batches). */
  readonly evalRng: RngState;
  /** AdamW step count and moments. */
  readonly optimizer: AdamWState;
}

/** What a Trainer trains besides its options (live objects, so never saved with the options). */
export interface TrainerSetup {
  /**
   * The weights to update (default: the LoRA adapters while any are attached, else every weight
   * of the model; see trainedWeights). With weights other than all of the model's, the run stays
   * on this thread: data-parallel replicas are plain copies of the model.
   */
  readonly weights?: Map<string, tf.Variable>;
}

/** Options of {@link Trainer.run}. */
export interface RunOptions {
  /** When aborted, run() returns after the step in progress (state() then describes that step). */
  readonly signal?: AbortSignal;
}

// A macrotask turn, so signal handlers and timers run between steps (setImmediate where it exists).
const nextTurn = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

function isRngState(x: unknown): x is RngState {
  if (x == null || typeof x !== 'object') return false;
  const r = x as Record<string, unknown>;
  return ['c', 's0', 's1', 's2'].every((k) => typeof r[k] === 'number');
}

/**
 * Trains any {@link LanguageModel} on any {@link BatchSource} with AdamW, a warmup+cosine
 * learning rate, global-norm clipping and gradient accumulation (nanoGPT's train.py loop).
 *
 * Randomness: the training Rng (seed + ":train") draws each micro-batch and then its
 * dropout seed; evaluation batches come from a second Rng (seed + ":eval"), so changing
 * evalInterval or evalIters never changes the training trajectory.
 *
 * The loop reads data from the device only at log and eval points. File I/O is the caller's:
 * while a yielded record is being handled the loop is paused, so `state()` (and the model's
 * weights) taken then describe exactly the step in the record.
 */
export class Trainer {
  /** Resolved, validated options. */
  readonly options: ResolvedTrainOptions;
  private readonly weights: Map<string, tf.Variable>;
  private readonly optimizer: AdamW;
  private rng: Rng;
  private evalRng: Rng;
  private stepsDone = 0;
  private running = false;
  /** Replica threads while run() is going with workers > 1 (parallel/pool.ts), else null. */
  private pool: DataParallel | null = null;
  /** True when only some of the model's weights train (LoRA's adapters): the run stays on one thread. */
  readonly subset: boolean;

  constructor(
    readonly model: LanguageModel,
    readonly dataset: BatchSource,
    options: TrainOptions = {},
    setup: TrainerSetup = {},
  ) {
    this.options = resolveTrainOptions(options, model.config);
    this.weights = trainedWeights(model, setup.weights);
    const all = model.namedWeights();
    this.subset = this.weights.size !== all.size || [...this.weights].some(([n, v]) => all.get(n) !== v);
    if (this.weights.size === 0) {
      throw new Error(
        setup.weights !== undefined
          ? 'Trainer: setup.weights is empty; pass the weights to train (e.g. loraWeights(model) after applyLoRA).'
          : 'Trainer: the model has no weights (namedWeights() is empty).',
      );
    }
    const o = this.options;
    this.optimizer = new AdamW(this.weights, {
      lr: o.lr,
      beta1: o.beta1,
      beta2: o.beta2,
      eps: o.eps,
      weightDecay: o.weightDecay,
    });
    // Named streams: the model's initialiser seeds alea with the bare seed, so reusing it here would
    // replay the very uniforms that drew the initial weights as batch offsets.
    this.rng = createRng(`${o.seed}:train`);
    this.evalRng = createRng(`${o.seed}:eval`);
  }

  /** A Trainer that continues a run from `state` (the model must already hold the saved weights). */
  static restore(model: LanguageModel, dataset: BatchSource, options: TrainOptions, state: TrainerState, setup: TrainerSetup = {}): Trainer {
    const t = new Trainer(model, dataset, options, setup);
    try {
      t.loadState(state);
    } catch (err) {
      t.dispose();
      throw err;
    }
    return t;
  }

  /** Optimizer steps completed. */
  get step(): number {
    return this.stepsDone;
  }

  /** With workers: where each worker's last step went, phase by phase (empty on one thread). */
  get workerPhases(): readonly StepPhases[] {
    return this.pool?.lastPhases ?? [];
  }

  /** Snapshot for a checkpoint (reads the optimizer moments from the device). */
  state(): TrainerState {
    return {
      step: this.stepsDone,
      rng: this.rng.state(),
      evalRng: this.evalRng.state(),
      optimizer: this.pool?.alive === true ? this.pool.optimizerState() : this.optimizer.getState(),
    };
  }

  /** Continues from a snapshot taken by state(); the model's weights are restored separately. */
  loadState(state: TrainerState): void {
    if (this.running) throw new Error('Trainer.loadState: cannot restore while run() is in progress.');
    if (state == null || typeof state !== 'object') throw new Error('Trainer.loadState: state must be the object state() returned.');
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new Error(`Trainer.loadState: state.step must be an integer >= 0, got ${String(state.step)}.`);
    }
    if (!isRngState(state.rng) || !isRngState(state.evalRng)) {
      throw new Error('Trainer.loadState: state.rng and state.evalRng must be Rng states ({ c, s0, s1, s2, spare }).');
    }
    this.optimizer.setState(state.optimizer);
    this.rng = createRng(`${this.options.seed}:train`, state.rng);
    this.evalRng = createRng(`${this.options.seed}:eval`, state.evalRng);
    this.stepsDone = state.step;
  }

  /**
   * Trains until options.maxIters steps are done, yielding a StepRecord every logInterval
   * steps and an EvalRecord every evalInterval steps (both also after the last step).
   * Breaking out of the loop, or aborting `options.signal`, stops training cleanly after a
   * whole step; calling run() again continues.
   */
  async *run(options: RunOptions = {}): AsyncGenerator<TrainRecord, void, undefined> {
    const { signal } = options;
    if (this.running) throw new Error('Trainer.run: already running; consume one run() at a time.');
    this.running = true;
    try {
      const o = this.options;
      const tokensPerStep = o.batchSize * o.blockSize * o.gradAccumSteps;
      // Only time spent training counts toward speed: evaluation and the consumer are excluded.
      let busyMs = 0;
      let stepsSinceLog = 0;
      if (this.stepsDone < o.maxIters) this.pool = await startDataParallel(this.model, this.optimizer, this.subset ? { ...o, workers: 1 } : o);
      let poolDirty = false;
      while (this.stepsDone < o.maxIters && signal?.aborted !== true) {
        const lr = getLr(this.stepsDone, o);
        const t0 = performance.now();
        const out = await this.trainStep(lr);
        poolDirty = this.pool !== null;
        busyMs += performance.now() - t0;
        this.stepsDone += 1;
        stepsSinceLog += 1;
        const last = this.stepsDone === o.maxIters;
        const logging = this.stepsDone % o.logInterval === 0 || last;
        const evaluating = this.stepsDone % o.evalInterval === 0 || last;
        if (poolDirty && (logging || evaluating)) {
          // Before anyone reads the model (evaluation, the consumer of a record): the workers' weights.
          const ts = performance.now();
          this.pool?.syncTo(this.weights);
          busyMs += performance.now() - ts;
          poolDirty = false;
        }
        if (logging) {
          const t1 = performance.now();
          const [loss, gradNorm] = await readStep(out);
          busyMs += performance.now() - t1;
          if (!Number.isFinite(loss)) {
            throw new Error(
              `Training diverged: the loss is ${loss} at step ${this.stepsDone}. ` +
                `Lower lr (now ${o.lr}), lengthen warmupIters (now ${o.warmupIters}) or set gradClip > 0.`,
            );
          }
          const rec: StepRecord = {
            kind: 'step',
            step: this.stepsDone,
            loss,
            lr,
            gradNorm,
            tokensPerSec: busyMs > 0 ? (tokensPerStep * stepsSinceLog * 1000) / busyMs : 0,
            ms: busyMs / stepsSinceLog,
          };
          busyMs = 0;
          stepsSinceLog = 0;
          yield rec;
        } else {
          tf.dispose([out.loss, out.norm ?? []]);
        }
        if (evaluating) yield await this.evaluate();
        // Steps are synchronous; without a turn of the event loop an abort could not arrive.
        if (signal !== undefined) await nextTurn();
      }
    } finally {
      // The optimizer takes the workers' moments back unless a worker failed mid-step (then the
      // model and the optimizer stay at the last record, like the last checkpoint).
      if (this.pool?.alive === true) this.pool.syncTo(this.weights, this.optimizer);
      // Every replica thread ends with the run, however it ends (done, break, error).
      await this.pool?.dispose();
      this.pool = null;
      this.running = false;
    }
  }

  /** Runs to the end, handing each record to `onRecord`; resolves to the final evaluation. */
  async train(onRecord?: (record: TrainRecord) => void | Promise<void>): Promise<EvalRecord | undefined> {
    let lastEval: EvalRecord | undefined;
    for await (const rec of this.run()) {
      if (rec.kind === 'eval') lastEval = rec;
      if (onRecord) await onRecord(rec);
    }
    return lastEval;
  }

  /** Mean train and val loss over evalIters batches each, dropout off. */
  async evaluate(): Promise<EvalRecord> {
    const o = this.options;
    const t0 = performance.now();
    const { train, val } = await estimateLoss(this.model, this.dataset, o.evalIters, o.batchSize, o.blockSize, this.evalRng);
    return { kind: 'eval', step: this.stepsDone, train, val, ms: performance.now() - t0 };
  }

  /** Frees the optimizer's moments (not the model). */
  dispose(): void {
    this.optimizer.dispose();
  }

  /** The next micro-batch and its dropout seed, in that order from the training Rng. */
  private drawMicro(): MicroBatch {
    const o = this.options;
    const { x, y } = this.dataset.getBatch('train', o.batchSize, o.blockSize, this.rng); // (B, T), (B, T)
    return { x, y, seed: this.rng.nextSeed() };
  }

  /** One optimizer step: accumulate, clip, update (here, or all of it in the workers). */
  private async trainStep(lr: number): Promise<StepTensors> {
    const o = this.options;
    if (this.pool) {
      const { loss, norm } = await this.pool.step(lr, () => this.drawMicro());
      return { loss: tf.scalar(loss), norm: o.gradClip > 0 ? tf.scalar(norm) : null };
    }
    const summed = accumulateGradients(
      this.weights,
      () => {
        const { x, y, seed } = this.drawMicro(); // (B, T), (B, T)
        return this.model.loss(x, y, { training: true, seed }); // ()
      },
      o.gradAccumSteps,
    );
    return applyUpdate(this.optimizer, summed, o.gradClip, lr);
  }
}
