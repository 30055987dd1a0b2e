/** Reported every logInterval steps and after the last step. */
export interface StepRecord {
  readonly kind: 'step';
  /** Optimizer steps completed (1 after the first update). */
  readonly step: number;
  /** Mean training loss of this step's micro-batches (nats per token). */
  readonly loss: number;
  /** Learning rate this step used. */
  readonly lr: number;
  /** Global gradient norm before clipping (null when gradClip is 0). */
  readonly gradNorm: number | null;
  /** Training tokens processed per second over the steps since the previous step record. */
  readonly tokensPerSec: number;
  /** Mean wall time of one step over the same span, in milliseconds (evaluation excluded). */
  readonly ms: number;
}

/** Reported every evalInterval steps and after the last step. */
export interface EvalRecord {
  readonly kind: 'eval';
  /** Optimizer steps completed when the losses were measured. */
  readonly step: number;
  /** Mean loss over evalIters training batches, dropout off. */
  readonly train: number;
  /** Mean loss over evalIters validation batches, dropout off. */
  readonly val: number;
  /** Wall time of the evaluation, in milliseconds. */
  readonly ms: number;
}

/** Everything Trainer.run() yields. */
export type TrainRecord = StepRecord | EvalRecord;
