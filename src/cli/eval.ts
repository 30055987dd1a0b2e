import { setBackend, type BackendName } from '../backend.js';
import { loadText } from '../data/text.js';
import { loadTrained } from '../pretrained/loadTrained.js';
import { evaluateText } from '../train/perplexity.js';
import { CliError, intFlag, parseFlags, strFlag } from './args.js';

export const EVAL_USAGE = `usage: tinygpt eval --checkpoint DIR --data FILE [--batch-size 8] [--backend auto|wasm|cpu|tensorflow]
  Prints the loss (mean next-token cross-entropy, nats per token) and perplexity e^loss of
  the model on the text of FILE, read in non-overlapping windows of the model's blockSize.`;

const FLAGS = {
  checkpoint: { type: 'string' },
  data: { type: 'string' },
  'batch-size': { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `tinygpt eval`: loss and perplexity of a checkpoint on a text file. */
export async function runEval(argv: string[]): Promise<void> {
  const v = parseFlags(argv, FLAGS, EVAL_USAGE);
  if (v.help) {
    console.log(EVAL_USAGE);
    return;
  }
  const dir = strFlag(v, 'checkpoint');
  if (!dir) throw new CliError(`--checkpoint DIR is required.\n${EVAL_USAGE}`);
  const data = strFlag(v, 'data');
  if (!data) throw new CliError(`--data FILE is required: the text to measure the model on.\n${EVAL_USAGE}`);
  const batchSize = intFlag(v, 'batch-size') ?? 8;
  if (batchSize < 1) throw new CliError(`--batch-size must be an integer >= 1, got ${batchSize}.`);
  const text = await loadText(data);
  await setBackend((strFlag(v, 'backend') ?? 'auto') as BackendName);
  const { model, tokenizer } = await loadTrained(dir);
  try {
    const ids = tokenizer.encode(text);
    if (ids.length < 2) throw new CliError(`${data} encodes to ${ids.length} token(s); at least 2 are needed to measure a next-token loss.`);
    const r = await evaluateText(model, ids, { batchSize });
    console.log(
      `loss ${r.loss.toFixed(4)} nats/token, perplexity ${r.perplexity.toFixed(3)} ` +
        `(${r.tokens} predicted tokens in ${r.windows} windows of up to ${model.config.blockSize})`,
    );
  } finally {
    model.dispose();
  }
}
