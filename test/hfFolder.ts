/**
 * A tiny random chat-model folder for pipeline, CLI and homework tests: a Gemma-3-shaped
 * tinygpt model (config.json + model.safetensors via savePretrained), a Gemma-style
 * tokenizer.json built by the fixtures, tokenizer_config.json with the Gemma-3-style chat
 * template, and generation_config.json listing <eos> and <end_of_turn>.
 * TODO(issue 14 items 1/2): write the weights with savePretrained(dir, { format: 'hf' }) as a
 * Gemma-3 HF folder once that writer is on main.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { presetConfig } from '../src/config/presets.js';
import { GPT } from '../src/model/gpt.js';
import { HFTokenizer } from '../src/tokenizer/hf/tokenizer.js';
import { createRng } from '../src/util/rng.js';
import { GEMMA3_TEMPLATE } from './chatTemplates.js';
import { CORPUS, sentencePieceTokenizer } from './hfTokenizerFixtures.js';
import { normals, setVar } from './helpers.js';

/** Options of {@link writeChatFolder}. */
export interface ChatFolderOptions {
  /** Extra text the tokenizer learns merges from (keeps long prompts short). */
  readonly corpus?: string;
  /** Model context length. Default 512. */
  readonly blockSize?: number;
  /** generation_config.json's eos_token_id; default [<eos>, <end_of_turn>]. */
  readonly eosTokenId?: number | readonly number[];
  /** Seed of the random weights. Default 3. */
  readonly seed?: number;
}

/** The tokenizer files of the folder (also used to predict what the folder's tokenizer does). */
export function chatTokenizerFiles(corpus = ''): { tokenizer: Record<string, unknown>; config: Record<string, unknown> } {
  return {
    tokenizer: sentencePieceTokenizer({ style: 'gemma', corpus: CORPUS + '\n' + corpus, merges: 400 }),
    config: { bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', add_bos_token: true, add_eos_token: false, chat_template: GEMMA3_TEMPLATE },
  };
}

/** Writes the folder and returns the model that was saved (the caller disposes it). */
export async function writeChatFolder(dir: string, o: ChatFolderOptions = {}): Promise<GPT> {
  mkdirSync(dir, { recursive: true });
  const files = chatTokenizerFiles(o.corpus);
  const tok = HFTokenizer.fromJSON(files.tokenizer, files.config);
  const config = presetConfig('gemma3-tiny', {
    vocabSize: tok.vocabSize, blockSize: o.blockSize ?? 512, nLayer: 2, nHead: 2, nKvHead: 1, nEmbd: 32, ffnHidden: 48,
    slidingWindow: 8, localGlobalPattern: 1, seed: o.seed ?? 3,
  });
  const model = new GPT(config);
  // Weights well away from the 0.02 init, so greedy choices are clear-cut (no near-ties).
  const rng = createRng(o.seed ?? 3);
  for (const [name, v] of model.namedWeights()) {
    const gain = /norm|ln_/.test(name) && name.endsWith('weight');
    setVar(v, normals(rng, v.size, gain ? 0.1 : 0.3, gain ? 1 : 0));
  }
  await model.savePretrained(dir);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(files.config));
  const eos = o.eosTokenId ?? [tok.eosTokenId as number, tok.tokenToId('<end_of_turn>') as number];
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: eos, bos_token_id: tok.bosTokenId }));
  return model;
}
