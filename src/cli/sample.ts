import { readFile } from 'node:fs/promises';
import { setBackend, type BackendName } from '../backend.js';
import { loadTrained } from '../pretrained/loadTrained.js';
import { generate } from '../sample/generate.js';
import { SAMPLE_DEFAULTS } from '../sample/defaults.js';
import { TextStopper, unescapeStop } from '../sample/stopText.js';
import { IncrementalDecoder } from '../sample/streamer.js';
import { createRng } from '../util/rng.js';
import { CliError, intFlag, numFlag, parseFlags, strFlag, type Values } from './args.js';
import { StdoutSink } from './stdoutSink.js';

export { unescapeStop };

export const SAMPLE_USAGE = `usage: tinygpt sample --checkpoint DIR [--prompt TEXT | --prompt-file FILE]
  --max-new-tokens 500 --temperature 0.8 --top-k 200 --top-p 1 --seed 1337 [--greedy | --do-sample]
  --num-samples 1 [--stop STR ...] --backend auto|wasm|cpu|tensorflow
  DIR is a folder written by tinygpt train (--out) or its ckpt/ subfolder. Samples by default
  (--do-sample); --greedy (or --temperature 0) takes the most likely token each step. --stop ends
  a sample before STR (repeatable; \\n, \\t and \\\\ are read as escapes). Several samples are
  separated by a line of dashes and drawn from one seeded rng.`;

const FLAGS = {
  checkpoint: { type: 'string' },
  prompt: { type: 'string' },
  'prompt-file': { type: 'string' },
  'max-new-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  greedy: { type: 'boolean' },
  'do-sample': { type: 'boolean' },
  'num-samples': { type: 'string' },
  stop: { type: 'string', multiple: true },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What nanoGPT's sample.py prints between samples. */
const SEPARATOR = '---------------\n';

/** The values of a repeatable string flag (parseArgs gives an array for `multiple: true`). */
function listFlag(values: Values, name: string): string[] {
  const raw: unknown = values[name];
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).filter((x): x is string => typeof x === 'string');
}

async function readPrompt(v: Values): Promise<string> {
  const file = strFlag(v, 'prompt-file');
  const inline = strFlag(v, 'prompt');
  if (file !== undefined && inline !== undefined) throw new CliError('give either --prompt or --prompt-file, not both.');
  if (file === undefined) {
    const prompt = inline ?? SAMPLE_DEFAULTS.prompt;
    if (prompt.length === 0) throw new CliError('--prompt must not be empty (the default is a newline).');
    return prompt;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? `--prompt-file ${file} does not exist; pass a text file holding the prompt.`
        : code === 'EISDIR' ? `--prompt-file ${file} is a folder; pass a text file holding the prompt.`
          : `--prompt-file ${file} could not be read (${code ?? (e as Error).message}).`,
    );
  }
  if (text.length === 0) throw new CliError(`--prompt-file ${file} is empty; write the prompt into it.`);
  return text;
}

/** Sampling flags → generate options; the CLI samples unless --greedy or --temperature 0. */
function samplingOptions(v: Values): { doSample: boolean; temperature?: number; topK?: number; topP?: number } {
  const temperature = numFlag(v, 'temperature');
  const topK = intFlag(v, 'top-k');
  const topP = numFlag(v, 'top-p');
  if (v.greedy === true) {
    if (v['do-sample'] === true) throw new CliError('--greedy and --do-sample contradict each other; give one.');
    const given = [['--temperature', temperature], ['--top-k', topK], ['--top-p', topP]].filter(([, x]) => x !== undefined);
    if (given.length > 0) {
      throw new CliError(`${given.map(([n]) => n).join(', ')} only ${given.length > 1 ? 'apply' : 'applies'} when sampling; drop --greedy or the sampling flags.`);
    }
    return { doSample: false };
  }
  return {
    doSample: true,
    temperature: temperature ?? SAMPLE_DEFAULTS.temperature,
    topK: topK ?? SAMPLE_DEFAULTS.topK,
    topP: topP ?? SAMPLE_DEFAULTS.topP,
  };
}

/** `tinygpt sample`: streams continuations of the prompt to stdout, in time linear in their length. */
export async function runSample(argv: string[]): Promise<void> {
  const v = parseFlags(argv, FLAGS, SAMPLE_USAGE);
  if (v.help) {
    console.log(SAMPLE_USAGE);
    return;
  }
  const dir = strFlag(v, 'checkpoint');
  if (!dir) throw new CliError(`--checkpoint DIR is required.\n${SAMPLE_USAGE}`);
  const sampling = samplingOptions(v);
  const maxNewTokens = intFlag(v, 'max-new-tokens') ?? SAMPLE_DEFAULTS.maxNewTokens;
  const numSamples = intFlag(v, 'num-samples') ?? 1;
  if (numSamples < 1) throw new CliError(`--num-samples must be an integer >= 1, got ${numSamples}.`);
  if (numSamples > 1 && (!sampling.doSample || sampling.temperature === 0)) {
    throw new CliError(`--num-samples ${numSamples} with greedy decoding prints ${numSamples} identical texts; sample instead (drop --greedy).`);
  }
  const stops = listFlag(v, 'stop').map(unescapeStop);
  if (stops.some((s) => s.length === 0)) throw new CliError('--stop must not be empty: an empty string would stop at once.');
  const seed = intFlag(v, 'seed') ?? SAMPLE_DEFAULTS.seed;
  const prompt = await readPrompt(v);
  await setBackend((strFlag(v, 'backend') ?? 'auto') as BackendName);
  const { model, tokenizer } = await loadTrained(dir);
  const sink = new StdoutSink();
  try {
    const promptIds = tokenizer.encode(prompt);
    const rng = createRng(seed);
    const decode = (ids: number[]): string => tokenizer.decode(ids);
    for (let i = 0; i < numSamples && !sink.closed; i++) {
      if (i > 0) await sink.write(SEPARATOR);
      const tokens = generate(model, promptIds, { maxNewTokens, ...sampling, rng });
      const decoder = new IncrementalDecoder(decode);
      const stopper = new TextStopper(stops);
      await sink.write(prompt);
      let stopped = false;
      for await (const id of tokens) {
        const step = stopper.push(decoder.push(id));
        await sink.write(step.text);
        // Leaving the loop ends the generator (its finally frees the KV cache).
        if (step.stop || sink.closed) {
          stopped = true;
          break;
        }
      }
      if (!stopped) {
        const step = stopper.push(decoder.flush());
        await sink.write(step.stop ? step.text : step.text + stopper.flush());
      }
      await sink.write('\n');
    }
  } finally {
    model.dispose();
    await sink.close();
  }
}
