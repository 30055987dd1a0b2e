import { setBackend, type BackendName } from '../backend.js';
import { loadTrained } from '../pretrained/loadTrained.js';
import { generate } from '../sample/generate.js';
import { streamText } from '../sample/streamer.js';
import { checkBounds } from './bounds.js';
import { CliError, intFlag, numFlag, parseFlags, strFlag } from './args.js';

export const SAMPLE_USAGE = `usage: tinygpt sample --checkpoint DIR [--prompt TEXT]
  --max-new-tokens 500 --temperature 0.8 --top-k 200 --top-p 1 --seed 1337 --backend auto|wasm|cpu|tensorflow
  DIR is a folder written by tinygpt train (--out) or its ckpt/ subfolder. Temperature 0 is greedy.`;

const FLAGS = {
  checkpoint: { type: 'string' },
  prompt: { type: 'string' },
  'max-new-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `tinygpt sample`: streams a continuation of the prompt to stdout. */
export async function runSample(argv: string[]): Promise<void> {
  const v = parseFlags(argv, FLAGS, SAMPLE_USAGE);
  if (v.help) {
    console.log(SAMPLE_USAGE);
    return;
  }
  checkBounds(v);
  const dir = strFlag(v, 'checkpoint');
  if (!dir) throw new CliError(`--checkpoint DIR is required.\n${SAMPLE_USAGE}`);
  await setBackend((strFlag(v, 'backend') ?? 'auto') as BackendName);
  const { model, tokenizer } = await loadTrained(dir);
  try {
    const prompt = strFlag(v, 'prompt') ?? '\n';
    if (prompt.length === 0) throw new CliError('--prompt must not be empty (the default is a newline).');
    const promptIds = tokenizer.encode(prompt);
    const tokens = generate(model, promptIds, {
      maxNewTokens: intFlag(v, 'max-new-tokens') ?? 500,
      temperature: numFlag(v, 'temperature') ?? 0.8,
      topK: intFlag(v, 'top-k') ?? 200,
      topP: numFlag(v, 'top-p'),
      seed: intFlag(v, 'seed') ?? 1337,
    });
    process.stdout.write(prompt);
    for await (const piece of streamText(tokens, (ids) => tokenizer.decode(ids))) process.stdout.write(piece);
    process.stdout.write('\n');
  } finally {
    model.dispose();
  }
}
