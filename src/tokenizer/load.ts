import { BPETokenizer } from './bpe.js';
import { CharTokenizer } from './char.js';

/** What the trainer, sampler and checkpoints need of any tokenizer. */
export interface Tokenizer {
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  toJSON(): object;
}

/** Rebuilds a tokenizer from its saved JSON, whichever kind it is (by its "type" field). */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  const type = json != null && typeof json === 'object' ? (json as { type?: unknown }).type : undefined;
  if (type === 'char') return CharTokenizer.fromJSON(json);
  if (type === 'tinygpt-bpe') return BPETokenizer.fromJSON(json);
  throw new Error(`tokenizer.json has unknown type ${JSON.stringify(type)}: expected "char" or "tinygpt-bpe".`);
}
