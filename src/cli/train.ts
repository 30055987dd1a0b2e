import { ensureShakespeare } from '../data/shakespeare.js';
import { loadText } from '../data/text.js';
import { setBackend, type BackendName } from '../backend.js';
import { resolveConfig, SHAKESPEARE_CHAR, type GPTConfig } from '../config/config.js';
import { PRESETS, type PresetName } from '../config/presets.js';
import { resolveTrainOptions } from '../train/options.js';
import { BPETokenizer } from '../tokenizer/bpe.js';
import { CharTokenizer } from '../tokenizer/char.js';
import { trainOnText } from '../train/session.js';
import { CliError, defined, intFlag, numFlag, parseFlags, strFlag } from './args.js';

export const TRAIN_USAGE = `usage: tinygpt train [--data FILE] [--out DIR] [--resume]
  model:  --preset shakespeare-char|gemma3-tiny|llama-tiny|gpt2 (shape; flags below override)
          --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 --dropout 0
          --tokenizer char|bpe --vocab-size N (bpe only)
  train:  --batch-size 12 --max-iters 2000 --lr 1e-3 --min-lr 1e-4 --warmup-iters 100
          --eval-interval 250 --eval-iters 20 --grad-accum 1 --seed 1337 --backend auto|wasm|cpu|tensorflow
          --workers N|auto (data-parallel threads, each running whole micro-batches; auto: one per
          core on wasm and cpu, at most --grad-accum)
  Without --data, Tiny Shakespeare is downloaded (checksum-checked) to data/tinyshakespeare.txt.`;

const FLAGS = {
  data: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  preset: { type: 'string' },
  'n-layer': { type: 'string' },
  'n-head': { type: 'string' },
  'n-embd': { type: 'string' },
  'block-size': { type: 'string' },
  dropout: { type: 'string' },
  tokenizer: { type: 'string' },
  'vocab-size': { type: 'string' },
  'batch-size': { type: 'string' },
  'max-iters': { type: 'string' },
  lr: { type: 'string' },
  'min-lr': { type: 'string' },
  'warmup-iters': { type: 'string' },
  'eval-interval': { type: 'string' },
  'eval-iters': { type: 'string' },
  'grad-accum': { type: 'string' },
  workers: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** --workers N|auto, or undefined when absent. */
function workersFlag(raw: string | undefined): number | 'auto' | undefined {
  if (raw === undefined || raw === 'auto') return raw;
  if (!/^[1-9]\d*$/.test(raw)) throw new CliError(`--workers must be a whole number >= 1 or "auto", got "${raw}".`);
  return Number(raw);
}

/** `tinygpt train`: nanoGPT's Shakespeare-char CPU recipe by default. */
export async function runTrain(argv: string[]): Promise<void> {
  const v = parseFlags(argv, FLAGS, TRAIN_USAGE);
  if (v.help) {
    console.log(TRAIN_USAGE);
    return;
  }
  const kind = strFlag(v, 'tokenizer') ?? 'char';
  if (kind !== 'char' && kind !== 'bpe') throw new CliError(`--tokenizer must be "char" or "bpe", got "${kind}".`);
  const vocabSize = intFlag(v, 'vocab-size');
  if (kind === 'char' && vocabSize !== undefined) {
    throw new CliError('--vocab-size applies to --tokenizer bpe only (a char tokenizer takes the corpus\'s characters).');
  }
  if (kind === 'bpe' && (vocabSize === undefined || vocabSize < 257)) {
    throw new CliError('--tokenizer bpe needs --vocab-size N with N > 256 (256 byte tokens plus merges), e.g. --vocab-size 1024.');
  }
  const presetName = strFlag(v, 'preset') ?? 'shakespeare-char';
  if (!(presetName in PRESETS)) {
    throw new CliError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}; got "${presetName}".`);
  }
  // The preset as written (not resolved), so sizes derived from nEmbd/nHead follow the overrides.
  const { vocabSize: _presetVocab, ...preset }: GPTConfig = PRESETS[presetName as PresetName];
  const seed = intFlag(v, 'seed') ?? SHAKESPEARE_CHAR.seed;
  const blockSize = intFlag(v, 'block-size') ?? preset.blockSize ?? SHAKESPEARE_CHAR.blockSize;
  const nEmbd = intFlag(v, 'n-embd');
  // Every flag is parsed before anything slow happens, so a typo fails at once.
  const model = {
    ...preset,
    ...defined({ nLayer: intFlag(v, 'n-layer'), nHead: intFlag(v, 'n-head'), dropout: numFlag(v, 'dropout') }),
    ...(nEmbd === undefined ? {} : { nEmbd, ffnHidden: 4 * nEmbd }),
    blockSize,
    seed,
  };
  resolveConfig({ ...model, vocabSize: 1 }); // validates the shape now, with the field named
  const train = defined({
    batchSize: intFlag(v, 'batch-size'),
    blockSize,
    maxIters: intFlag(v, 'max-iters'),
    lr: numFlag(v, 'lr'),
    minLr: numFlag(v, 'min-lr'),
    warmupIters: intFlag(v, 'warmup-iters'),
    evalInterval: intFlag(v, 'eval-interval'),
    evalIters: intFlag(v, 'eval-iters'),
    gradAccumSteps: intFlag(v, 'grad-accum'),
    workers: workersFlag(strFlag(v, 'workers')),
    seed,
  });
  resolveTrainOptions(train, { blockSize, seed });
  const outDir = strFlag(v, 'out') ?? 'out';
  const backend = await setBackend((strFlag(v, 'backend') ?? 'auto') as BackendName);
  const dataPath = strFlag(v, 'data') ?? (await ensureShakespeare());
  const text = await loadText(dataPath);
  console.error(`tinygpt train: ${dataPath} (${text.length} chars), backend ${backend}, out ${outDir}`);
  const result = await trainOnText({
    text,
    outDir,
    resume: v.resume === true,
    makeTokenizer: (t) => (kind === 'bpe' ? BPETokenizer.train(t, vocabSize!) : CharTokenizer.fromText(t)),
    model,
    train,
  });
  const last = result.lastEval;
  console.error(
    `done: ${last ? `step ${last.step}, train ${last.train.toFixed(4)}, val ${last.val.toFixed(4)}` : 'no evaluation'}; checkpoint ${result.checkpointDir}`,
  );
  result.model.dispose();
}
