/**
 * The token ids at which generation stops for a model folder (Node only), as transformers'
 * generate does: generation_config.json's eos_token_id (a number or a list; Gemma-3-it lists
 * <eos> and <end_of_turn>), else config.json's (or its text_config's), plus the tokenizer's eos.
 * A chat model's end-of-turn marker (<end_of_turn>, <|eot_id|>, <|im_end|>, <|end|>) is added
 * when the chat template writes it, so folders without generation_config.json still stop there.
 */
import * as path from 'node:path';
import { readJsonObject } from '../io/jsonFile.js';
import type { HFTokenizer } from '../tokenizer/hf/tokenizer.js';

/** End-of-turn markers of common chat formats (Gemma, Llama 3, ChatML, Phi). */
export const END_OF_TURN_TOKENS: readonly string[] = ['<end_of_turn>', '<|eot_id|>', '<|im_end|>', '<|end|>'];

function eosIds(v: unknown, file: string): number[] {
  if (v == null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new Error(`${file}: eos_token_id must be a token id or a list of them, got ${JSON.stringify(v)}.`);
    }
  }
  return list as number[];
}

/** Stop ids of the folder `dir` whose tokenizer is `tokenizer`, without duplicates, in a stable order. */
export async function readStopTokenIds(dir: string, tokenizer: HFTokenizer): Promise<number[]> {
  const ids = new Set<number>();
  const genFile = path.join(dir, 'generation_config.json');
  const gen = await readJsonObject(genFile);
  eosIds(gen?.eos_token_id, genFile).forEach((id) => ids.add(id));
  if (ids.size === 0) {
    const cfgFile = path.join(dir, 'config.json');
    const cfg = await readJsonObject(cfgFile);
    const text = cfg?.text_config;
    const inner = text != null && typeof text === 'object' ? (text as Record<string, unknown>).eos_token_id : undefined;
    eosIds(cfg?.eos_token_id ?? inner, cfgFile).forEach((id) => ids.add(id));
  }
  if (tokenizer.eosTokenId !== undefined) ids.add(tokenizer.eosTokenId);
  const template = tokenizer.chatTemplate ?? '';
  for (const marker of END_OF_TURN_TOKENS) {
    const id = tokenizer.tokenToId(marker);
    if (id !== undefined && template.includes(marker)) ids.add(id);
  }
  return [...ids];
}
