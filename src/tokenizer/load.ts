import { BPETokenizer } from './bpe.js';
import { CharTokenizer } from './char.js';
import { HFTokenizer, isHFTokenizerJSON } from './hf/tokenizer.js';

/** What the trainer, sampler and checkpoints need of any tokenizer. */
export interface Tokenizer {
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  toJSON(): object;
}

/**
 * Rebuilds a tokenizer from its saved JSON, whichever kind it is (by its "type" field); a
 * Hugging Face tokenizer.json (no "type", a "model" object) is read as an {@link HFTokenizer}.
 */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  const type = json != null && typeof json === 'object' ? (json as { type?: unknown }).type : undefined;
  if (type === 'char') return CharTokenizer.fromJSON(json);
  if (type === 'tinygpt-bpe') return BPETokenizer.fromJSON(json);
  if (isHFTokenizerJSON(json)) return HFTokenizer.fromJSON(json);
  throw new Error(
    `tokenizer.json has unknown type ${JSON.stringify(type)}: expected "char", "tinygpt-bpe" or a Hugging Face tokenizer.json (with a "model").`,
  );
}
