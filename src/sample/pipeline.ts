import type { LanguageModel } from '../model/types.js';
import { createRng } from '../util/rng.js';
import { generate } from './generate.js';
import { resolveSampling } from './mode.js';
import { checkOptionNames } from './optionNames.js';
import { type StopCondition, type StopOption } from './stopping.js';
import { checkStopStrings, TextStopper } from './stopText.js';
import { IncrementalDecoder } from './streamer.js';

/** The part of a tokenizer the pipeline needs. */
export interface TextCodec {
  /** Text → token ids. */
  encode(text: string): number[];
  /** Token ids → text. */
  decode(ids: number[]): string;
}

/** Options of a text-generation call, named after Hugging Face's pipeline arguments. */
export interface TextGenerationOptions {
  /** How many tokens to generate at most; a non-negative integer. */
  readonly maxNewTokens: number;
  /** false (default) decodes greedily; true samples. temperature/topK/topP need true (see mode.ts). */
  readonly doSample?: boolean;
  /** true (default) returns prompt + continuation; false only the continuation. */
  readonly returnFullText?: boolean;
  /** Sampling temperature when doSample is true; 0 is greedy. Default 1. */
  readonly temperature?: number;
  /** Keep only the k most likely tokens when sampling. Default: all. */
  readonly topK?: number;
  /** Nucleus mass in (0, 1] when sampling. Default 1. */
  readonly topP?: number;
  /** How many continuations to return, drawn one after another from one seeded rng; > 1 needs doSample. Default 1. */
  readonly numReturnSequences?: number;
  /** CTRL repetition penalty; 1 = off. Applies to greedy decoding too. Default 1. */
  readonly repetitionPenalty?: number;
  /** Seed of the sampling rng. Default 0. */
  readonly seed?: number;
  /** Stop ids, id sequences or strings; the continuation is cut before the first one. */
  readonly stop?: StopOption;
}

/** Every option name of {@link TextGenerationOptions}; any other key is an error with a suggestion. */
export const TEXT_GENERATION_OPTION_NAMES = [
  'maxNewTokens', 'doSample', 'returnFullText', 'temperature', 'topK', 'topP', 'numReturnSequences',
  'repetitionPenalty', 'seed', 'stop',
] as const satisfies readonly (keyof TextGenerationOptions)[];
const allNamed: Exclude<keyof TextGenerationOptions, (typeof TEXT_GENERATION_OPTION_NAMES)[number]> extends never ? true : never = true;
void allNamed;

/** One result, as in Hugging Face's pipeline output. */
export interface TextGenerationOutput {
  /** The prompt followed by the continuation, or the continuation alone (see returnFullText). */
  readonly generatedText: string;
}

/** A text-in, text-out generator bound to a model and a tokenizer: one output per returned sequence. */
export type TextGenerationPipeline = (
  prompt: string,
  options: TextGenerationOptions,
) => Promise<TextGenerationOutput[]>;

function checkOptions(options: TextGenerationOptions): number {
  if (options == null || typeof options !== 'object') {
    throw new Error('textGeneration: options are required, e.g. { maxNewTokens: 50 }.');
  }
  checkOptionNames(options, TEXT_GENERATION_OPTION_NAMES, 'textGeneration');
  if (options.returnFullText !== undefined && typeof options.returnFullText !== 'boolean') {
    throw new Error(`textGeneration: returnFullText must be true or false, got ${String(options.returnFullText)}.`);
  }
  const n = options.numReturnSequences ?? 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new Error(`textGeneration: numReturnSequences must be an integer >= 1, got ${String(n)}.`);
  }
  if (n > 1 && options.doSample !== true) {
    // As in Hugging Face: greedy decoding would return n copies of the same text.
    throw new Error(`textGeneration: numReturnSequences ${n} needs doSample: true (greedy decoding gives ${n} identical texts).`);
  }
  return n;
}

/**
 * Hugging Face-style text generation: encode the prompt, generate, decode. Stop strings are
 * cut at their exact character position (not at a token boundary), so the text ends right
 * before the first stop string; with returnFullText the prompt string is prepended verbatim.
 * Text is decoded incrementally, so the cost stays linear in the number of new tokens.
 */
export function textGeneration(model: LanguageModel, tokenizer: TextCodec): TextGenerationPipeline {
  if (tokenizer == null || typeof tokenizer.encode !== 'function' || typeof tokenizer.decode !== 'function') {
    throw new Error('textGeneration needs a tokenizer with encode(text) => number[] and decode(ids) => string.');
  }
  return async (prompt, options) => {
    if (typeof prompt !== 'string') throw new Error(`textGeneration: the prompt must be a string, got ${typeof prompt}.`);
    const count = checkOptions(options);
    const sampling = resolveSampling(options, 'textGeneration');
    const full = options.returnFullText ?? true;
    const promptIds = tokenizer.encode(prompt);
    if (promptIds.length === 0) {
      throw new Error('textGeneration: the prompt encodes to no tokens; pass a non-empty prompt.');
    }
    const all: readonly StopCondition[] =
      options.stop === undefined ? [] : Array.isArray(options.stop) ? options.stop : [options.stop];
    // Ids are stopped inside generate; strings are cut here, on the text, for an exact cut.
    const stopStrings = checkStopStrings(all.filter((c) => typeof c === 'string'), 'stop');
    const stopIds = all.filter((c) => typeof c !== 'string');
    // One rng for all sequences: the first equals a single-sequence call with the same seed.
    const rng = createRng(options.seed ?? 0);
    const outputs: TextGenerationOutput[] = [];
    for (let i = 0; i < count; i++) {
      const tokens = generate(model, promptIds, {
        maxNewTokens: options.maxNewTokens,
        ...(sampling.temperature > 0 ? { doSample: true, ...sampling } : {}),
        repetitionPenalty: options.repetitionPenalty,
        rng,
        stop: stopIds,
      });
      const text = await decodeUntilStop(tokens, tokenizer, stopStrings);
      outputs.push({ generatedText: full ? prompt + text : text });
    }
    return outputs;
  };
}

/** Decodes a token stream to text, ending before the first stop string. */
async function decodeUntilStop(tokens: AsyncIterable<number>, tokenizer: TextCodec, stops: readonly string[]): Promise<string> {
  const decoder = new IncrementalDecoder((ids) => tokenizer.decode(ids));
  const stopper = new TextStopper(stops);
  let text = '';
  for await (const id of tokens) {
    const step = stopper.push(decoder.push(id));
    text += step.text;
    // Leaving the loop calls tokens.return(), which ends generation without leaking tensors.
    if (step.stop) return text;
  }
  const step = stopper.push(decoder.flush());
  return step.stop ? text + step.text : text + step.text + stopper.flush();
}
