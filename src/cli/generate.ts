import { setBackend, type BackendName } from '../backend.js';
import { pipeline } from '../pretrained/pipeline.js';
import { generate } from '../sample/generate.js';
import { streamText } from '../sample/streamer.js';
import { CliError, intFlag, numFlag, parseFlags, strFlag, type Values } from './args.js';

/** What --dtype means, for generate's and chat's usage. */
export const DTYPE_HELP = `--dtype auto keeps the stored dtype (bfloat16 stays bfloat16) on tinygpt's own SIMD engine, for
  inference: half the memory and faster decoding; a 1B model such as Gemma 3 1B needs it. fp32 (default)
  loads float32 tfjs tensors.`;

export const GENERATE_USAGE = `usage: tinygpt generate --model DIR --prompt TEXT [--chat]
  --max-new-tokens 256 --do-sample --temperature 1 --top-k K --top-p 1 --seed 0 --backend auto|wasm|cpu|tensorflow
  --dtype fp32|auto
  DIR is a model folder (config.json, weights, tokenizer.json, tokenizer_config.json), e.g. a downloaded
  google/gemma-3-1b-it. Greedy unless --do-sample. --chat sends the prompt as one user turn through the
  folder's chat template. Generation stops at the folder's eos / end-of-turn tokens.
  ${DTYPE_HELP}`;

/** --dtype, checked. */
export function dtypeFlag(v: Values): 'fp32' | 'auto' {
  const d = strFlag(v, 'dtype') ?? 'fp32';
  if (d !== 'fp32' && d !== 'auto') throw new CliError(`--dtype must be fp32 or auto, got "${d}".`);
  return d;
}

/** The flags generate and chat share: the folder, the generation length and sampling, the backend. */
export const GENERATION_FLAGS = {
  model: { type: 'string' },
  'max-new-tokens': { type: 'string' },
  'do-sample': { type: 'boolean' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  dtype: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const FLAGS = { ...GENERATION_FLAGS, prompt: { type: 'string' }, chat: { type: 'boolean' } } as const;

/**
 * Sampling flags shared by generate and chat: greedy (temperature 0) unless --do-sample. The
 * doSample field says so explicitly for a generate() that requires it before temperature/topK/topP.
 */
export function samplingFlags(v: Values): { doSample?: true; temperature: number; topK?: number; topP?: number } {
  const doSample = v['do-sample'] === true;
  const temperature = numFlag(v, 'temperature');
  const topK = intFlag(v, 'top-k');
  const topP = numFlag(v, 'top-p');
  if (!doSample && (temperature !== undefined || topK !== undefined || topP !== undefined)) {
    throw new CliError('--temperature, --top-k and --top-p only apply with --do-sample (decoding is greedy otherwise).');
  }
  return doSample ? { doSample: true, temperature: temperature ?? 1, topK, topP } : { temperature: 0 };
}

/** `tinygpt generate`: streams the continuation of a prompt (or the reply to it, with --chat). */
export async function runGenerate(argv: string[]): Promise<void> {
  const v = parseFlags(argv, FLAGS, GENERATE_USAGE);
  if (v.help) {
    console.log(GENERATE_USAGE);
    return;
  }
  const dir = strFlag(v, 'model');
  if (!dir) throw new CliError(`--model DIR is required.\n${GENERATE_USAGE}`);
  const prompt = strFlag(v, 'prompt');
  if (prompt === undefined || prompt.length === 0)
    throw new CliError(`--prompt TEXT is required and must not be empty.\n${GENERATE_USAGE}`);
  const sampling = samplingFlags(v);
  const maxNewTokens = intFlag(v, 'max-new-tokens') ?? 256;
  const dtype = dtypeFlag(v);
  await setBackend((strFlag(v, 'backend') ?? 'auto') as BackendName);
  const pipe = await pipeline('text-generation', dir, { dtype });
  try {
    const tok = pipe.tokenizer;
    const ids =
      v.chat === true
        ? tok.encode(pipe.renderChat([{ role: 'user', content: prompt }]), { addSpecialTokens: false })
        : tok.encode(prompt);
    const tokens = generate(pipe.model, ids, {
      maxNewTokens,
      ...sampling,
      seed: intFlag(v, 'seed') ?? 0,
      stop: [...pipe.stopTokenIds],
    });
    if (v.chat !== true) process.stdout.write(prompt);
    for await (const piece of streamText(tokens, (x) => tok.decode(x, { skipSpecialTokens: true }))) process.stdout.write(piece);
    process.stdout.write('\n');
  } finally {
    pipe.dispose();
  }
}
