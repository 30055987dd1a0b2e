import type { LanguageModel } from '../model/types.js';
import { generate } from './generate.js';
import { findStopString, type StopCondition, type StopOption } from './stopping.js';

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
  /** false (default) decodes greedily and ignores temperature, topK and topP; true samples. */
  readonly doSample?: boolean;
  /** true (default) returns prompt + continuation; false only the continuation. */
  readonly returnFullText?: boolean;
  /** Sampling temperature when doSample is true; > 0. Default 1. */
  readonly temperature?: number;
  /** Keep only the k most likely tokens when sampling. Default: all. */
  readonly topK?: number;
  /** Nucleus mass in (0, 1] when sampling. Default 1. */
  readonly topP?: number;
  /** CTRL repetition penalty; 1 = off. Applies to greedy decoding too. Default 1. */
  readonly repetitionPenalty?: number;
  /** Seed of the sampling rng. Default 0. */
  readonly seed?: number;
  /** Stop ids, id sequences or strings; the continuation is cut before the first one. */
  readonly stop?: StopOption;
}

/** One result, as in Hugging Face's pipeline output. */
export interface TextGenerationOutput {
  /** The prompt followed by the continuation, or the continuation alone (see returnFullText). */
  readonly generatedText: string;
}

/** A text-in, text-out generator bound to a model and a tokenizer. */
export type TextGenerationPipeline = (
  prompt: string,
  options: TextGenerationOptions,
) => Promise<[TextGenerationOutput]>;

/**
 * Hugging Face-style text generation: encode the prompt, generate, decode. Stop strings are
 * cut at their exact character position (not at a token boundary), so the text ends right
 * before the first stop string; with returnFullText the prompt string is prepended verbatim.
 */
export function textGeneration(model: LanguageModel, tokenizer: TextCodec): TextGenerationPipeline {
  if (tokenizer == null || typeof tokenizer.encode !== 'function' || typeof tokenizer.decode !== 'function') {
    throw new Error('textGeneration needs a tokenizer with encode(text) => number[] and decode(ids) => string.');
  }
  return async (prompt, options) => {
    if (typeof prompt !== 'string') throw new Error(`textGeneration: the prompt must be a string, got ${typeof prompt}.`);
    if (options == null || typeof options !== 'object') {
      throw new Error('textGeneration: options are required, e.g. { maxNewTokens: 50 }.');
    }
    for (const k of ['doSample', 'returnFullText'] as const) {
      if (options[k] !== undefined && typeof options[k] !== 'boolean') {
        throw new Error(`textGeneration: ${k} must be true or false, got ${String(options[k])}.`);
      }
    }
    const full = options.returnFullText ?? true;
    const promptIds = tokenizer.encode(prompt);
    if (promptIds.length === 0) {
      throw new Error('textGeneration: the prompt encodes to no tokens; pass a non-empty prompt.');
    }
    const all: readonly StopCondition[] =
      options.stop === undefined ? [] : Array.isArray(options.stop) ? options.stop : [options.stop];
    // Ids are stopped inside generate; strings are cut here, on the text, for an exact cut.
    const stopStrings = all.filter((c): c is string => typeof c === 'string');
    const stopIds = all.filter((c) => typeof c !== 'string');
    for (const s of stopStrings) {
      if (s.length === 0) throw new Error('stop: an empty string would match immediately; remove it.');
    }
    const doSample = options.doSample ?? false;
    const tokens = generate(model, promptIds, {
      maxNewTokens: options.maxNewTokens,
      temperature: doSample ? (options.temperature ?? 1) : 0,
      topK: doSample ? options.topK : undefined,
      topP: doSample ? options.topP : undefined,
      repetitionPenalty: options.repetitionPenalty,
      seed: options.seed,
      stop: stopIds,
    });
    const newIds: number[] = [];
    let text = '';
    for await (const id of tokens) {
      newIds.push(id);
      if (stopStrings.length === 0) continue;
      text = tokenizer.decode(newIds.slice());
      const at = findStopString(text, stopStrings);
      if (at >= 0) {
        text = text.slice(0, at);
        // Leaving the loop calls tokens.return(), which ends generation without leaking tensors.
        return [{ generatedText: full ? prompt + text : text }];
      }
    }
    text = tokenizer.decode(newIds.slice());
    return [{ generatedText: full ? prompt + text : text }];
  };
}
