import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { checkpointLeftovers } from '../io/checkpointRecover.js';
import { tokenizerFromJSON, type Tokenizer } from '../tokenizer/load.js';
import type { GPT } from '../model/gpt.js';
import { ADAPTER_CONFIG_FILE } from '../io/checkpointTypes.js';
import { mergeLoRA } from '../train/lora.js';
import { loadLoRA } from '../train/loraFiles.js';
import { loadPretrained } from './pretrained.js';

/** A trained model with the tokenizer it was trained with. */
export interface TrainedModel {
  readonly model: GPT;
  readonly tokenizer: Tokenizer;
  /** The folder the files were read from. */
  readonly dir: string;
}

/**
 * Loads a model folder with its tokenizer.json: a checkpoint folder, or a training output
 * folder holding one in ckpt/, with a LoRA run's adapters merged in. The caller disposes the model.
 */
export async function loadTrained(dir: string): Promise<TrainedModel> {
  const folder = !existsSync(path.join(dir, 'config.json')) && existsSync(path.join(dir, 'ckpt', 'config.json')) ? path.join(dir, 'ckpt') : dir;
  if (!existsSync(folder)) throw new Error(`${dir} does not exist: pass the folder written by tinygpt train (--out).`);
  if (!statSync(folder).isDirectory()) throw new Error(`${dir} is a file, not a folder: pass the folder written by tinygpt train (--out).`);
  if (folder === dir && !existsSync(path.join(dir, 'config.json'))) {
    const left = await checkpointLeftovers(path.join(dir, 'ckpt'));
    if (left.length > 0) {
      throw new Error(
        `${path.join(dir, 'ckpt')} is missing: a save was interrupted and left ${left[0]}; ` +
          `\`tinygpt train --out ${dir} --resume\` recovers the newest complete copy.`,
      );
    }
  }
  const tokFile = path.join(folder, 'tokenizer.json');
  if (!existsSync(tokFile)) {
    throw new Error(`${folder} has no tokenizer.json: pass a folder written by tinygpt train, which stores its tokenizer.`);
  }
  let tokJson: unknown;
  try {
    tokJson = JSON.parse(await readFile(tokFile, 'utf8'));
  } catch (e) {
    throw new Error(`${tokFile}: malformed JSON (${(e as Error).message}).`);
  }
  const tokenizer = tokenizerFromJSON(tokJson);
  const model = await loadPretrained(folder);
  // A LoRA run's checkpoint holds the frozen base and its adapters: the trained model is their merge.
  if (existsSync(path.join(folder, ADAPTER_CONFIG_FILE))) {
    try {
      await loadLoRA(model, folder);
      mergeLoRA(model);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  if (tokenizer.vocabSize > model.config.vocabSize) {
    model.dispose();
    throw new Error(`${folder}: the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${model.config.vocabSize}.`);
  }
  return { model, tokenizer, dir: folder };
}
