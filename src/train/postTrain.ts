import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../model/types.js';
import { createRng, type Rng } from '../util/rng.js';
import { accumulateGradients } from './accumulate.js';
import { AdamW } from './adamw.js';
import { resolveTrainOptions, type ResolvedTrainOptions, type TrainOptions } from './options.js';
import { EpochSampler } from './padBatch.js';
import type { StepRecord } from './records.js';
import { getLr } from './schedule.js';
import { applyUpdate, readStep, type StepTensors } from './update.js';

/**
 * Hyperparameters shared by SFT and DPO: the pre-training options (same names and meaning)
 * without blockSize and evalIters, which examples replace, plus maxLength.
 */
export interface PostTrainOptions extends Omit<TrainOptions, 'blockSize' | 'evalIters'> {
  /** Tokens kept per example (longer ones are truncated); at most the model's blockSize + 1. */
  readonly maxLength?: number;
}

/** Resolved options: the pre-training fields (blockSize = maxLength − 1) plus maxLength. */
export type ResolvedPostTrainOptions = ResolvedTrainOptions & { readonly maxLength: number };

/** Fine-tuning defaults: a smaller, constant-ish rate, no warmup, no decay of the starting weights. */
export const POST_TRAIN_DEFAULTS: Readonly<TrainOptions> = Object.freeze({
  batchSize: 8,
  maxIters: 200,
  lr: 1e-4,
  warmupIters: 0,
  weightDecay: 0,
  evalInterval: 50,
  logInterval: 10,
});

/** Fills defaults over `base` and validates with the pre-training rules. */
export function resolvePostTrainOptions(
  options: PostTrainOptions,
  model: LanguageModel,
  base: Readonly<TrainOptions> = POST_TRAIN_DEFAULTS,
): ResolvedPostTrainOptions {
  const { maxLength: ml, ...rest } = options;
  const maxLength = ml ?? model.config.blockSize + 1;
  if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > model.config.blockSize + 1) {
    throw new Error(
      `maxLength must be an integer in [2, blockSize + 1 = ${model.config.blockSize + 1}] (n tokens feed n − 1 positions), got ${String(maxLength)}.`,
    );
  }
  const merged: TrainOptions = { ...base, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) };
  // minLr follows lr unless given, so a smaller lr never trips the minLr <= lr rule.
  const minLr = merged.minLr ?? (merged.lr ?? 1e-3) / 10;
  const resolved = resolveTrainOptions({ ...merged, minLr, blockSize: maxLength - 1 }, model.config);
  return Object.freeze({ ...resolved, maxLength });
}

/**
 * The loop SFT and DPO share (the pre-training Trainer's, over examples instead of a token
 * stream): shuffled epochs of examples, gradient accumulation, global-norm clipping, AdamW with
 * the warmup + cosine schedule, a StepRecord every logInterval steps and an evaluation every
 * evalInterval steps (both also after the last). Subclasses say what a step's loss is.
 */
export abstract class PostTrainer<E, R extends { readonly kind: 'eval' }> {
  readonly options: ResolvedPostTrainOptions;
  protected readonly rng: Rng;
  private readonly sampler: EpochSampler;
  private readonly optimizer: AdamW;
  private stepsDone = 0;
  private running = false;

  protected constructor(
    readonly model: LanguageModel,
    protected readonly examples: readonly E[],
    options: ResolvedPostTrainOptions,
    /** The weights that train (trainedWeights: the adapters while LoRA is applied, else all of the model's). */
    protected readonly weights: Map<string, tf.Variable>,
  ) {
    this.options = options;
    if (examples.length === 0) throw new Error('the training set is empty: pass at least one example.');
    if (weights.size === 0) throw new Error('there are no weights to train.');
    this.optimizer = new AdamW(weights, {
      lr: options.lr,
      beta1: options.beta1,
      beta2: options.beta2,
      eps: options.eps,
      weightDecay: options.weightDecay,
    });
    this.rng = createRng(`${options.seed}:post`);
    this.sampler = new EpochSampler(examples.length, (k) => this.rng.nextInt(k));
  }

  /** Optimizer steps completed. */
  get step(): number {
    return this.stepsDone;
  }

  /** Passes over the training examples completed so far. */
  get epoch(): number {
    return this.sampler.epoch;
  }

  /**
   * The loss of micro-batch k of a step whose micro-batches are `micros`; accumulateGradients
   * divides it by gradAccumSteps, so return K × (this micro-batch's share of the step's loss).
   */
  protected abstract microLoss(micros: readonly (readonly E[])[], k: number): tf.Scalar;

  /** Tokens in one example (for the tokens/s of the step records). */
  protected abstract tokensOf(example: E): number;

  /** Evaluation on held-out data (or the training set), dropout off. */
  abstract evaluate(): Promise<R>;

  /** Work done once before the first step (DPO computes its reference log-probs here). */
  protected async prepare(): Promise<void> {}

  /** Trains to options.maxIters, yielding step and eval records; breaking out stops cleanly. */
  async *run(): AsyncGenerator<StepRecord | R, void, undefined> {
    if (this.running) throw new Error('run: already running; consume one run() at a time.');
    this.running = true;
    try {
      await this.prepare();
      const o = this.options;
      let busyMs = 0;
      let tokens = 0;
      let since = 0;
      while (this.stepsDone < o.maxIters) {
        const lr = getLr(this.stepsDone, o);
        const t0 = performance.now();
        const micros = Array.from({ length: o.gradAccumSteps }, () => this.sampler.next(o.batchSize).map((i) => this.examples[i]));
        for (const m of micros) for (const e of m) tokens += this.tokensOf(e);
        const out = this.trainStep(micros, lr);
        busyMs += performance.now() - t0;
        this.stepsDone += 1;
        since += 1;
        const last = this.stepsDone === o.maxIters;
        if (this.stepsDone % o.logInterval === 0 || last) {
          const t1 = performance.now();
          const [loss, gradNorm] = await readStep(out);
          busyMs += performance.now() - t1;
          if (!Number.isFinite(loss)) {
            throw new Error(`Training diverged: the loss is ${loss} at step ${this.stepsDone}. Lower lr (now ${o.lr}) or set gradClip > 0.`);
          }
          yield { kind: 'step', step: this.stepsDone, loss, lr, gradNorm, tokensPerSec: busyMs > 0 ? (tokens * 1000) / busyMs : 0, ms: busyMs / since };
          busyMs = 0;
          tokens = 0;
          since = 0;
        } else {
          tf.dispose([out.loss, out.norm ?? []]);
        }
        if (this.stepsDone % o.evalInterval === 0 || last) yield await this.evaluate();
      }
    } finally {
      this.running = false;
    }
  }

  /** Runs to the end, handing each record to `onRecord`; resolves to the final evaluation. */
  async train(onRecord?: (record: StepRecord | R) => void | Promise<void>): Promise<R | undefined> {
    let lastEval: R | undefined;
    for await (const rec of this.run()) {
      if (rec.kind === 'eval') lastEval = rec as R;
      if (onRecord) await onRecord(rec);
    }
    return lastEval;
  }

  /** Frees the optimizer's moments (not the model). */
  dispose(): void {
    this.optimizer.dispose();
  }

  private trainStep(micros: readonly (readonly E[])[], lr: number): StepTensors {
    const o = this.options;
    const summed = accumulateGradients(this.weights, (k) => this.microLoss(micros, k), o.gradAccumSteps);
    return applyUpdate(this.optimizer, summed, o.gradClip, lr);
  }
}
