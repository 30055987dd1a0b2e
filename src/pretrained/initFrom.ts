/**
 * The starting point of a fine-tuning run (`tinygpt train --init-from DIR`): the weights and
 * the tokenizer of a tinygpt checkpoint (a training --out folder or its ckpt/), or of a Hugging
 * Face GPT-2 folder (config.json, model.safetensors, vocab.json, merges.txt).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { GPT } from '../model/gpt.js';
import { BPETokenizer } from '../tokenizer/bpe.js';
import type { Tokenizer } from '../tokenizer/load.js';
import { loadTrained } from './loadTrained.js';
import { loadPretrained } from './pretrained.js';

/** A model to start training from, with the tokenizer its ids belong to. */
export interface InitialModel {
  /** The model (owned by whoever trains it). */
  readonly model: GPT;
  /** The tokenizer the model was trained with. */
  readonly tokenizer: Tokenizer;
  /** The folder it was read from. */
  readonly dir: string;
  /** Which kind of folder that was. */
  readonly format: 'tinygpt' | 'hf-gpt2';
}

/**
 * Loads DIR for --init-from. A folder with vocab.json and merges.txt is read as Hugging Face
 * GPT-2; otherwise it must be a tinygpt checkpoint with its tokenizer.json. The caller disposes
 * the model.
 */
export async function loadInitialModel(dir: string): Promise<InitialModel> {
  if (!existsSync(dir)) {
    throw new Error(`--init-from ${dir} does not exist: pass a tinygpt training folder (--out) or a Hugging Face GPT-2 folder.`);
  }
  const vocab = path.join(dir, 'vocab.json');
  const merges = path.join(dir, 'merges.txt');
  if (existsSync(vocab) && existsSync(merges)) {
    const tokenizer = await BPETokenizer.loadGPT2Files(vocab, merges);
    const model = await loadPretrained(dir);
    if (tokenizer.vocabSize > model.config.vocabSize) {
      model.dispose();
      throw new Error(`${dir}: vocab.json and merges.txt make ${tokenizer.vocabSize} tokens but the model has only ${model.config.vocabSize}; the files belong to different models.`);
    }
    return { model, tokenizer, dir, format: 'hf-gpt2' };
  }
  const hasCheckpoint = existsSync(path.join(dir, 'config.json')) || existsSync(path.join(dir, 'ckpt', 'config.json'));
  if (!hasCheckpoint) {
    throw new Error(`--init-from ${dir} holds no model: expected a tinygpt checkpoint (config.json, or ckpt/) or a GPT-2 folder with vocab.json and merges.txt.`);
  }
  const { model, tokenizer, dir: folder } = await loadTrained(dir);
  return { model, tokenizer, dir: folder, format: 'tinygpt' };
}
