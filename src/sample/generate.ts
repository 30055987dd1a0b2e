import type { LanguageModel } from '../model/types.js';
import { createRng, type Rng } from '../util/rng.js';
import { applyRepetitionPenalty, checkRepetitionPenalty } from './processors.js';
import { checkSampleOptions, sampleNext, type SampleOptions } from './sampler.js';
import { contextStepper, defaultContextShift } from './context.js';
import { StopCriteria, type StopOption } from './stopping.js';
import { resolveSampling } from './mode.js';
import { checkOptionNames } from './optionNames.js';

export { nextLogits } from './context.js';

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** How many tokens to generate at most (stop tokens count); a non-negative integer. */
  readonly maxNewTokens: number;
  /**
   * false (default, as in Hugging Face): greedy, the most likely token each step; true: sample
   * with temperature, topK and topP. Giving those without doSample: true is an error (see mode.ts).
   */
  readonly doSample?: boolean;
  /** When sampling: divides the logits (p_i ∝ exp(z_i / T)); 0 means greedy argmax. Default 1. */
  readonly temperature?: number;
  /** When sampling: keep only the k most likely tokens (clamped to the vocabulary size). Default: all. */
  readonly topK?: number;
  /** When sampling: keep the smallest most-likely set with mass ≥ p, in (0, 1]. Default 1. */
  readonly topP?: number;
  /** generate streams one sequence, so only 1 is accepted; textGeneration returns several. */
  readonly numReturnSequences?: number;
  /** CTRL penalty on every token already in prompt or output; 1 = off, > 1 discourages repeats. Default 1. */
  readonly repetitionPenalty?: number;
  /** Seed of the sampling rng when `rng` is not given. Default 0, so output is reproducible. */
  readonly seed?: number;
  /** An existing rng to draw from instead of seeding one (it advances one draw per sampled token). */
  readonly rng?: Rng;
  /** Stop ids, id sequences or strings (strings need `decode`); the stop itself is not yielded. */
  readonly stop?: StopOption;
  /** Decoder for stop strings: turns generated ids into text. */
  readonly decode?: (ids: number[]) => string;
  /** Aborting ends generation at the next token boundary: held-back tokens are released, then the generator returns (no throw). */
  readonly signal?: AbortSignal;
  /** Called with each token id just before it is yielded. */
  readonly onToken?: (id: number) => void;
  /** Reuse keys and values of earlier positions (KV cache) when the model supports it. Default true. */
  readonly cache?: boolean;
  /**
   * Passed to the model's stepper(): for tinygpt's GPT, true steps on the tensor-free Decoder
   * (XNNPACK on wasm, JS loops elsewhere), false on the tensor KV cache; the default is the model's
   * (the Decoder on wasm and cpu). A model without a stepper() cannot honour true.
   */
  readonly fastDecoder?: boolean;
  /**
   * When the context outgrows blockSize, drop this many of its oldest tokens beyond the limit
   * (1 = nanoGPT's crop to the last blockSize tokens; larger lets a cache be rebuilt less often).
   * Default max(1, floor(blockSize / 4)); cached and uncached runs use the same windows.
   */
  readonly contextShift?: number;
}

/** Every option name of {@link GenerateOptions}; any other key is an error with a suggestion. */
export const GENERATE_OPTION_NAMES = [
  'maxNewTokens', 'doSample', 'temperature', 'topK', 'topP', 'numReturnSequences', 'repetitionPenalty', 'seed',
  'rng', 'stop', 'decode', 'signal', 'onToken', 'cache', 'fastDecoder', 'contextShift',
] as const satisfies readonly (keyof GenerateOptions)[];
// Compile-time check that the list above names every field of GenerateOptions.
const allNamed: Exclude<keyof GenerateOptions, (typeof GENERATE_OPTION_NAMES)[number]> extends never ? true : never = true;
void allNamed;

function checkGenerateArgs(model: LanguageModel, promptIds: readonly number[], o: GenerateOptions): void {
  if (model == null || typeof model.forward !== 'function' || model.config == null) {
    throw new Error('generate: model must be a LanguageModel (with config and forward).');
  }
  if (o == null || typeof o !== 'object') {
    throw new Error('generate: options are required, e.g. { maxNewTokens: 100 }.');
  }
  checkOptionNames(o, GENERATE_OPTION_NAMES, 'generate');
  if (o.numReturnSequences !== undefined && o.numReturnSequences !== 1) {
    throw new Error(
      `generate: numReturnSequences ${String(o.numReturnSequences)}: generate streams one sequence; ` +
        'use textGeneration(model, tokenizer)(prompt, { numReturnSequences, doSample: true }) or call generate once per sequence with one shared rng.',
    );
  }
  const v = model.config.vocabSize;
  if (!Array.isArray(promptIds) || promptIds.length === 0) {
    throw new Error('generate: the prompt is empty; pass at least one token id (e.g. a newline or BOS token).');
  }
  for (const id of promptIds) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= v) {
      throw new Error(`generate: prompt token id ${String(id)} is not an integer in [0, ${v}) (the model's vocabSize).`);
    }
  }
  if (typeof o.maxNewTokens !== 'number' || !Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) {
    throw new Error(`generate: maxNewTokens must be a non-negative integer, got ${String(o.maxNewTokens)}.`);
  }
  if (o.repetitionPenalty !== undefined) checkRepetitionPenalty(o.repetitionPenalty);
  if (o.seed !== undefined && (typeof o.seed !== 'number' || !Number.isFinite(o.seed))) {
    throw new Error(`generate: seed must be a finite number, got ${String(o.seed)}.`);
  }
  if (o.onToken !== undefined && typeof o.onToken !== 'function') {
    throw new Error('generate: onToken must be a function (id) => void.');
  }
  const bs = model.config.blockSize;
  if (o.contextShift !== undefined && (!Number.isInteger(o.contextShift) || o.contextShift < 1 || o.contextShift > bs)) {
    throw new Error(`generate: contextShift must be an integer in [1, blockSize = ${bs}], got ${String(o.contextShift)}.`);
  }
  if (o.fastDecoder !== undefined && typeof o.fastDecoder !== 'boolean') {
    throw new Error(`generate: fastDecoder must be true or false, got ${String(o.fastDecoder)}.`);
  }
  if (o.fastDecoder === true && (o.cache ?? true) && typeof model.stepper !== 'function') {
    throw new Error('generate: fastDecoder needs a model with stepper() (tinygpt GPT models have one); pass fastDecoder: false or cache: false.');
  }
  if (o.signal !== undefined && (o.signal == null || typeof o.signal.aborted !== 'boolean')) {
    throw new Error('generate: signal must be an AbortSignal (from new AbortController().signal).');
  }
}

/** A macrotask break, so an abort() fired by a timer or an event handler is seen between tokens. */
function yieldToEventLoop(): Promise<void> {
  // setImmediate (Node) skips the ~1 ms minimum delay of setTimeout; in browsers a MessageChannel
  // message is a macrotask without setTimeout's 4 ms clamp on nested timers (≤ 250 tokens/s).
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Autoregressive generation, streamed: yields each new token id as soon as it is known not to
 * belong to a stop condition. The context never exceeds blockSize tokens (the model has no
 * positions beyond that): see `contextShift`. With a KV cache each step feeds only the new token. Options are checked when called,
 * before the first token. When `signal` is given, the loop waits one macrotask per token so
 * that an abort can arrive; an aborted run simply ends (held-back tokens are released first).
 * Tensors are created and freed per token, so tf.memory().numTensors is unchanged afterwards.
 */
export function generate(
  model: LanguageModel,
  promptIds: readonly number[],
  options: GenerateOptions,
): AsyncGenerator<number, void, undefined> {
  checkGenerateArgs(model, promptIds, options);
  const sampling = resolveSampling(options, 'generate');
  const rng = options.rng ?? createRng(options.seed ?? 0);
  checkSampleOptions({ ...sampling, rng });
  const stopper = new StopCriteria(options.stop, options.decode, model.config.vocabSize);
  return run(model, [...promptIds], options, { ...sampling, rng }, stopper);
}

async function* run(
  model: LanguageModel,
  ids: number[],
  o: GenerateOptions,
  sampling: SampleOptions,
  stopper: StopCriteria,
): AsyncGenerator<number, void, undefined> {
  const penalty = o.repetitionPenalty ?? 1;
  const shift = o.contextShift ?? defaultContextShift(model.config.blockSize);
  const stepper = contextStepper(model, shift, o.cache ?? true, o.fastDecoder === undefined ? {} : { fastDecoder: o.fastDecoder });
  // finally also runs when the consumer stops early (break → return()), freeing the KV cache.
  try {
    for (let step = 0; step < o.maxNewTokens; step++) {
      if (o.signal !== undefined) {
        await yieldToEventLoop();
        if (o.signal.aborted) break;
      }
      let logits: Float32Array | Float64Array = stepper.next(ids);
      // The penalty sees the whole history, not just the cropped window, as in Hugging Face.
      if (penalty !== 1) logits = applyRepetitionPenalty(logits, ids, penalty);
      const id = sampleNext(logits, sampling);
      ids.push(id);
      const { emit, stop } = stopper.push(id);
      for (const t of emit) {
        o.onToken?.(t);
        yield t;
      }
      if (stop) return;
    }
    for (const t of stopper.flush()) {
      o.onToken?.(t);
      yield t;
    }
  } finally {
    stepper.dispose();
  }
}

/** Runs {@link generate} to the end and returns the new token ids (the prompt is not included). */
export async function generateAll(
  model: LanguageModel,
  promptIds: readonly number[],
  options: GenerateOptions,
): Promise<number[]> {
  const out: number[] = [];
  for await (const id of generate(model, promptIds, options)) out.push(id);
  return out;
}
