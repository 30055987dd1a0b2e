/**
 * AutoTokenizer-like loading of a model folder's tokenizer (Node only): tokenizer.json, with
 * tokenizer_config.json (bos/eos, add_bos_token, chat_template) and chat_template.jinja (newer
 * transformers write the template there) when present.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readJsonObject } from '../io/jsonFile.js';
import { HFTokenizer } from '../tokenizer/hf/tokenizer.js';

/** Reads a Hugging Face tokenizer from `dir`. Errors name the file and what to do. */
export async function loadTokenizer(dir: string): Promise<HFTokenizer> {
  const file = path.join(dir, 'tokenizer.json');
  const tokenizer = await readJsonObject(file);
  if (tokenizer === null) {
    throw new Error(`${dir} has no tokenizer.json: pass a Hugging Face model folder (with tokenizer.json and tokenizer_config.json).`);
  }
  if (tokenizer.type === 'char' || tokenizer.type === 'tinygpt-bpe') {
    throw new Error(`${file} is a tinygpt tokenizer (type "${tokenizer.type}"), not a Hugging Face one: load the folder with loadTrained(dir).`);
  }
  const config = (await readJsonObject(path.join(dir, 'tokenizer_config.json'))) ?? undefined;
  let chatTemplate: string | undefined;
  try {
    chatTemplate = await readFile(path.join(dir, 'chat_template.jinja'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${dir}/chat_template.jinja: cannot read (${(e as Error).message}).`);
  }
  return HFTokenizer.fromFiles({ tokenizer, config, chatTemplate }, file);
}
