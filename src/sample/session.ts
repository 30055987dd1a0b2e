/**
 * Generation that continues one token sequence across calls, for chat: the session keeps the
 * ids so far and one stepper whose KV cache holds them, so each call feeds only the ids it is
 * given (the new turn) before generating. It drives the same pieces as {@link generate}: the
 * context stepper, the repetition penalty, sampleNext and StopCriteria.
 */
import type { LanguageModel } from '../model/types.js';
import { createRng, type Rng } from '../util/rng.js';
import { contextStepper, defaultContextShift, type ContextStepper } from './context.js';
import type { GenerateOptions } from './generate.js';
import { applyRepetitionPenalty, checkRepetitionPenalty } from './processors.js';
import { checkSampleOptions, sampleNext } from './sampler.js';
import { StopCriteria } from './stopping.js';

/** Options fixed for a session's lifetime. */
export interface SessionOptions {
  /** Use a KV cache. Default true (without it every step re-reads the window). */
  readonly cache?: boolean;
  /** Use the tensor-free Decoder for cached steps (see GenerateOptions.fastDecoder). */
  readonly fastDecoder?: boolean;
  /** Tokens dropped when the conversation outgrows blockSize (see GenerateOptions.contextShift). */
  readonly contextShift?: number;
  /** Seed of the session's sampling rng. Default 0. */
  readonly seed?: number;
}

/** Per-call options: those of generate that do not belong to the session. */
export type TurnOptions = Pick<GenerateOptions, 'maxNewTokens' | 'temperature' | 'topK' | 'topP' | 'repetitionPenalty' | 'stop' | 'decode' | 'signal'>;

/** A growing token sequence with its KV cache; dispose() frees the cache. */
export class GenerationSession {
  private readonly ids: number[] = [];
  private stepper: ContextStepper;
  private readonly rng: Rng;
  private busy = false;

  constructor(
    private readonly model: LanguageModel,
    private readonly options: SessionOptions = {},
  ) {
    this.stepper = this.newStepper();
    this.rng = createRng(options.seed ?? 0);
  }

  private newStepper(): ContextStepper {
    const o = this.options;
    const shift = o.contextShift ?? defaultContextShift(this.model.config.blockSize);
    return contextStepper(this.model, shift, o.cache ?? true, o.fastDecoder === undefined ? {} : { fastDecoder: o.fastDecoder });
  }

  /** Every id so far: fed and generated. */
  get tokens(): readonly number[] {
    return this.ids;
  }

  /** Forgets the sequence and empties the cache. */
  reset(): void {
    if (this.busy) throw new Error('GenerationSession.reset: a turn is still being generated.');
    this.ids.length = 0;
    this.stepper.dispose();
    this.stepper = this.newStepper();
  }

  /**
   * Appends `newIds` and generates from there: yields each new id that is not part of a stop.
   * The generated ids, stop tokens included, stay in the sequence for the next call.
   */
  async *generate(newIds: readonly number[], o: TurnOptions): AsyncGenerator<number, void, undefined> {
    const v = this.model.config.vocabSize;
    for (const id of newIds) {
      if (!Number.isInteger(id) || id < 0 || id >= v) throw new Error(`GenerationSession: token id ${String(id)} is not in [0, ${v}).`);
    }
    if (this.ids.length + newIds.length === 0) throw new Error('GenerationSession: nothing to continue; pass at least one token id.');
    if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) {
      throw new Error(`GenerationSession: maxNewTokens must be a non-negative integer, got ${String(o.maxNewTokens)}.`);
    }
    const temperature = o.temperature ?? 1;
    checkSampleOptions({ temperature, topK: o.topK, topP: o.topP, rng: this.rng });
    const penalty = o.repetitionPenalty ?? 1;
    if (penalty !== 1) checkRepetitionPenalty(penalty);
    const stopper = new StopCriteria(o.stop, o.decode, v);
    if (this.busy) throw new Error('GenerationSession: a turn is still being generated; finish it before the next.');
    this.busy = true;
    this.ids.push(...newIds);
    try {
      for (let step = 0; step < o.maxNewTokens; step++) {
        if (o.signal?.aborted) break;
        let logits: Float32Array | Float64Array = this.stepper.next(this.ids);
        if (penalty !== 1) logits = applyRepetitionPenalty(logits, this.ids, penalty);
        const id = sampleNext(logits, { temperature, topK: o.topK, topP: o.topP, rng: this.rng });
        this.ids.push(id);
        const { emit, stop } = stopper.push(id);
        yield* emit;
        if (stop) return;
      }
      yield* stopper.flush();
    } finally {
      this.busy = false;
    }
  }

  /** Frees the KV cache. */
  dispose(): void {
    this.stepper.dispose();
  }
}
