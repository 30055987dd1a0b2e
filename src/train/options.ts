/** Training hyperparameters; every field is optional and defaults to nanoGPT's Shakespeare CPU recipe. */
export interface TrainOptions {
  /** Sequences per micro-batch (B). */
  readonly batchSize?: number;
  /** Tokens per sequence (T); at most the model's blockSize. */
  readonly blockSize?: number;
  /** Optimizer steps to run in total (a resumed run continues up to this step). */
  readonly maxIters?: number;
  /** Peak learning rate, reached after warmup. */
  readonly lr?: number;
  /** Learning rate at the end of the cosine decay; at most lr. */
  readonly minLr?: number;
  /** Steps of linear learning-rate warmup. */
  readonly warmupIters?: number;
  /** Step at which the cosine decay reaches minLr (default maxIters, or warmupIters if larger). */
  readonly lrDecayIters?: number;
  /** AdamW first-moment decay β1. */
  readonly beta1?: number;
  /** AdamW second-moment decay β2 (0.99 suits small models and batches). */
  readonly beta2?: number;
  /** AdamW ε. */
  readonly eps?: number;
  /** Decoupled weight decay λ on matrices (rank >= 2 weights). */
  readonly weightDecay?: number;
  /** Clip gradients to this global L2 norm; 0 disables clipping. */
  readonly gradClip?: number;
  /** Micro-batches per optimizer step (effective batch = gradAccumSteps · batchSize). */
  readonly gradAccumSteps?: number;
  /** Evaluate train/val loss every this many steps (and after the last step). */
  readonly evalInterval?: number;
  /** Batches per split in each evaluation. */
  readonly evalIters?: number;
  /** Report the training loss every this many steps (and after the last step). */
  readonly logInterval?: number;
  /** Seed of the batch-sampling and dropout Rng (default: the model config's seed). */
  readonly seed?: number;
  /** Data-parallel threads (micro-batches, or row shards of them, per thread); 'auto' = one per core on wasm and cpu, at most the rows per step. */
  readonly workers?: number | 'auto';
}

/** Options with every field filled and checked. */
export type ResolvedTrainOptions = Readonly<Required<TrainOptions>>;

/** nanoGPT's config/train_shakespeare_char.py as run on a CPU (README): small batch and context. */
export const DEFAULT_TRAIN_OPTIONS: Omit<ResolvedTrainOptions, 'lrDecayIters' | 'seed'> = Object.freeze({
  batchSize: 12,
  blockSize: 64,
  maxIters: 2000,
  lr: 1e-3,
  minLr: 1e-4,
  warmupIters: 100,
  beta1: 0.9,
  beta2: 0.99,
  eps: 1e-8,
  weightDecay: 0.1,
  gradClip: 1.0,
  gradAccumSteps: 1,
  evalInterval: 250,
  evalIters: 20,
  logInterval: 10,
  workers: 'auto',
});

/** The two model facts the options are checked against. */
export interface TrainModelLimits {
  /** The model's context length; options.blockSize may not exceed it. */
  readonly blockSize: number;
  /** Default seed when options.seed is absent. */
  readonly seed: number;
}

const KNOWN_FIELDS: readonly string[] = [...Object.keys(DEFAULT_TRAIN_OPTIONS), 'lrDecayIters', 'seed'];

function need(ok: boolean, field: string, rule: string, got: unknown): void {
  if (!ok) throw new Error(`TrainOptions.${field} must be ${rule}, got ${String(got)}.`);
}

function checkInt(o: ResolvedTrainOptions, field: keyof TrainOptions, min: number): void {
  const v = o[field];
  need(typeof v === 'number' && Number.isInteger(v) && v >= min, field, `an integer >= ${min}`, v);
}

function checkUnit(o: ResolvedTrainOptions, field: 'beta1' | 'beta2'): void {
  const v = o[field];
  need(Number.isFinite(v) && v >= 0 && v < 1, field, 'in [0, 1)', v);
}

/**
 * Fills defaults and validates. With `model` (its config), the seed defaults to the model's
 * and blockSize is checked against the model's context length.
 */
export function resolveTrainOptions(options: TrainOptions = {}, model?: TrainModelLimits): ResolvedTrainOptions {
  if (options == null || typeof options !== 'object') {
    throw new Error('TrainOptions must be an object (or omitted for the defaults).');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_FIELDS.includes(key)) {
      throw new Error(`TrainOptions has no field "${key}"; the fields are: ${KNOWN_FIELDS.join(', ')}.`);
    }
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as TrainOptions;
  const maxIters = defined.maxIters ?? DEFAULT_TRAIN_OPTIONS.maxIters;
  const o: ResolvedTrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    ...defined,
    // A run shorter than its warmup simply never decays, rather than failing on a default.
    lrDecayIters: defined.lrDecayIters ?? Math.max(maxIters, defined.warmupIters ?? DEFAULT_TRAIN_OPTIONS.warmupIters),
    seed: defined.seed ?? model?.seed ?? 1337,
  };
  checkInt(o, 'batchSize', 1);
  checkInt(o, 'blockSize', 1);
  checkInt(o, 'maxIters', 0);
  checkInt(o, 'warmupIters', 0);
  checkInt(o, 'lrDecayIters', 0);
  checkInt(o, 'gradAccumSteps', 1);
  checkInt(o, 'evalInterval', 1);
  checkInt(o, 'evalIters', 1);
  checkInt(o, 'logInterval', 1);
  checkInt(o, 'seed', 0);
  need(o.workers === 'auto' || (Number.isInteger(o.workers) && o.workers >= 1), 'workers', "an integer >= 1 or 'auto'", o.workers);
  if (typeof o.workers === 'number' && o.workers > o.gradAccumSteps * o.batchSize) {
    throw new Error(
      `TrainOptions.workers (${o.workers}) exceeds the rows per step (batchSize ${o.batchSize} × gradAccumSteps ` +
        `${o.gradAccumSteps}): each worker needs at least one sequence, so use workers <= ${o.gradAccumSteps * o.batchSize} or 'auto'.`,
    );
  }
  need(Number.isFinite(o.lr) && o.lr > 0, 'lr', 'a finite number > 0 (e.g. 1e-3)', o.lr);
  need(Number.isFinite(o.minLr) && o.minLr >= 0 && o.minLr <= o.lr, 'minLr', `in [0, lr = ${o.lr}]`, o.minLr);
  checkUnit(o, 'beta1');
  checkUnit(o, 'beta2');
  need(Number.isFinite(o.eps) && o.eps > 0, 'eps', 'a finite number > 0 (e.g. 1e-8)', o.eps);
  need(Number.isFinite(o.weightDecay) && o.weightDecay >= 0, 'weightDecay', 'a finite number >= 0', o.weightDecay);
  need(Number.isFinite(o.gradClip) && o.gradClip >= 0, 'gradClip', 'a finite number >= 0 (0 turns clipping off)', o.gradClip);
  if (o.lrDecayIters < o.warmupIters) {
    throw new Error(
      `TrainOptions.lrDecayIters (${o.lrDecayIters}) must be >= warmupIters (${o.warmupIters}): ` +
        'the cosine decay starts where the warmup ends.',
    );
  }
  if (model !== undefined && o.blockSize > model.blockSize) {
    throw new Error(
      `TrainOptions.blockSize (${o.blockSize}) exceeds the model's blockSize (${model.blockSize}): ` +
        `train on blockSize <= ${model.blockSize} or build the model with a longer context.`,
    );
  }
  return Object.freeze(o);
}
