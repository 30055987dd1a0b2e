import { charTokenizerOfFile, readTextPrefix } from '../data/corpus.js';
import { ensureShakespeare } from '../data/shakespeare.js';
import { setBackend, type BackendName } from '../backend.js';
import { resolveConfig, SHAKESPEARE_CHAR, type GPTConfig } from '../config/config.js';
import { PRESETS, type PresetName } from '../config/presets.js';
import { loadInitialModel } from '../pretrained/initFrom.js';
import { resolveTrainOptions } from '../train/options.js';
import { BPETokenizer } from '../tokenizer/bpe.js';
import type { Tokenizer } from '../tokenizer/load.js';
import { trainOnText } from '../train/session.js';
import { installStopSignals, INTERRUPTED_EXIT_CODE } from '../train/signals.js';
import { CliError, defined, intFlag, numFlag, parseFlags, strFlag, type Values } from './args.js';
import { checkBounds } from './bounds.js';
import { LORA_FLAGS, loraOptionsFromFlags } from './postTrainArgs.js';

export const TRAIN_USAGE = `usage: tinygpt train [--data FILE] [--out DIR] [--resume | --overwrite] [--init-from DIR]
  model:  --preset shakespeare-char|gemma3-tiny|llama-tiny|gpt2 (shape; flags below override)
          --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 --dropout 0
          --tokenizer char|bpe --vocab-size N (bpe only)
  train:  --batch-size 12 --max-iters 2000 --lr 1e-3 --min-lr 1e-4 --warmup-iters 100 --lr-decay-iters N
          --weight-decay 0.1 --eval-interval 250 --eval-iters 20 --grad-accum 1 --seed 1337
          --backend auto|wasm|cpu|tensorflow
          --workers N|auto (data-parallel threads sharing each step's sequences; auto: one per
          core on wasm and cpu, at most batch size × grad-accum)
  LoRA:   --lora-rank R [--lora-alpha 8] [--lora-targets c_attn|q_proj,v_proj,...] [--lora-dropout 0]
          trains only adapters over the frozen model (one worker); they are saved in the checkpoint and
          as --out/adapter_model.safetensors + adapter_config.json (PEFT); sample merges them.
  --resume continues the run in --out (changed train flags apply from its step; shape flags are errors);
  --overwrite deletes the run in --out first; --init-from DIR fine-tunes a tinygpt checkpoint or a
  Hugging Face GPT-2 folder (weights and tokenizer from DIR). Ctrl-C saves a checkpoint and exits 130.
  Without --data, Tiny Shakespeare is downloaded (checksum-checked) to data/tinyshakespeare.txt.`;

const FLAGS = {
  data: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  'init-from': { type: 'string' },
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
  'lr-decay-iters': { type: 'string' },
  'weight-decay': { type: 'string' },
  'eval-interval': { type: 'string' },
  'eval-iters': { type: 'string' },
  'grad-accum': { type: 'string' },
  workers: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  ...LORA_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** --workers N|auto, or undefined when absent. */
function workersFlag(raw: string | undefined): number | 'auto' | undefined {
  if (raw === undefined || raw === 'auto') return raw;
  if (!/^[1-9]\d*$/.test(raw)) throw new CliError(`--workers must be a whole number >= 1 or "auto", got "${raw}".`);
  return Number(raw);
}

/** BPE merges are learnt from at most this many characters of the corpus (all of a smaller one). */
const BPE_TRAIN_CHARS = 16 << 20;

/** The shape a fresh run builds, and the fields the user asked for explicitly (checked on resume/init). */
function modelFlags(v: Values): { model: Omit<GPTConfig, 'vocabSize'>; asked: Omit<GPTConfig, 'vocabSize'> } {
  const presetName = strFlag(v, 'preset') ?? 'shakespeare-char';
  if (!(presetName in PRESETS)) {
    throw new CliError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}; got "${presetName}".`);
  }
  // The preset as written (not resolved), so sizes derived from nEmbd/nHead follow the overrides.
  const { vocabSize: _presetVocab, ...preset }: GPTConfig = PRESETS[presetName as PresetName];
  const nEmbd = intFlag(v, 'n-embd');
  const asked = {
    ...(strFlag(v, 'preset') !== undefined ? preset : {}),
    ...defined({ nLayer: intFlag(v, 'n-layer'), nHead: intFlag(v, 'n-head'), nEmbd, blockSize: intFlag(v, 'block-size'), dropout: numFlag(v, 'dropout') }),
  };
  const model = {
    ...preset,
    ...asked,
    ...(nEmbd === undefined ? {} : { ffnHidden: 4 * nEmbd }),
    blockSize: intFlag(v, 'block-size') ?? preset.blockSize ?? SHAKESPEARE_CHAR.blockSize,
    seed: intFlag(v, 'seed') ?? SHAKESPEARE_CHAR.seed,
  };
  return { model, asked };
}

function withoutBlockSize(c: Omit<GPTConfig, 'vocabSize'>): Omit<GPTConfig, 'vocabSize'> {
  const { blockSize: _window, ...rest } = c;
  return rest;
}

/** `tinygpt train`: nanoGPT's Shakespeare-char CPU recipe by default. Resolves to the exit code. */
export async function runTrain(argv: string[]): Promise<number> {
  const v = parseFlags(argv, FLAGS, TRAIN_USAGE);
  if (v.help) {
    console.log(TRAIN_USAGE);
    return 0;
  }
  checkBounds(v);
  const resume = v.resume === true;
  const initFrom = strFlag(v, 'init-from');
  const kind = strFlag(v, 'tokenizer') ?? 'char';
  if (kind !== 'char' && kind !== 'bpe') throw new CliError(`--tokenizer must be "char" or "bpe", got "${kind}".`);
  const vocabSize = intFlag(v, 'vocab-size');
  if ((resume || initFrom !== undefined) && (v.tokenizer !== undefined || vocabSize !== undefined)) {
    throw new CliError(`--tokenizer and --vocab-size do not apply with ${resume ? '--resume' : '--init-from'}: the tokenizer comes from the ${resume ? 'checkpoint' : 'folder'}.`);
  }
  if (kind === 'char' && vocabSize !== undefined) {
    throw new CliError('--vocab-size applies to --tokenizer bpe only (a char tokenizer takes the corpus\'s characters).');
  }
  if (kind === 'bpe' && !resume && initFrom === undefined && (vocabSize === undefined || vocabSize < 257)) {
    throw new CliError('--tokenizer bpe needs --vocab-size N with N > 256 (256 byte tokens plus merges), e.g. --vocab-size 1024.');
  }
  const { model, asked } = modelFlags(v);
  // Every flag is parsed before anything slow happens, so a typo fails at once.
  resolveConfig({ ...model, vocabSize: 1 }); // validates the shape now, with the field named
  const explicit = defined({
    batchSize: intFlag(v, 'batch-size'),
    blockSize: intFlag(v, 'block-size'),
    maxIters: intFlag(v, 'max-iters'),
    lr: numFlag(v, 'lr'),
    minLr: numFlag(v, 'min-lr'),
    warmupIters: intFlag(v, 'warmup-iters'),
    lrDecayIters: intFlag(v, 'lr-decay-iters'),
    weightDecay: numFlag(v, 'weight-decay'),
    evalInterval: intFlag(v, 'eval-interval'),
    evalIters: intFlag(v, 'eval-iters'),
    gradAccumSteps: intFlag(v, 'grad-accum'),
    workers: workersFlag(strFlag(v, 'workers')),
    seed: intFlag(v, 'seed'),
  });
  const lora = loraOptionsFromFlags(v);
  const fresh = !resume && initFrom === undefined;
  const train = fresh ? { ...explicit, blockSize: model.blockSize, seed: model.seed } : explicit;
  if (fresh) resolveTrainOptions(train, { blockSize: model.blockSize!, seed: model.seed! });
  const outDir = strFlag(v, 'out') ?? 'out';
  const backend = await setBackend((strFlag(v, 'backend') ?? 'auto') as BackendName);
  const dataPath = strFlag(v, 'data') ?? (await ensureShakespeare());
  console.error(`tinygpt train: ${dataPath}, backend ${backend}, out ${outDir}${initFrom ? `, from ${initFrom}` : ''}`);
  const init = initFrom !== undefined ? await loadInitialModel(initFrom) : undefined;
  let tokenizer: Tokenizer | undefined;
  if (fresh) {
    tokenizer = kind === 'bpe' ? BPETokenizer.train(await readTextPrefix(dataPath, BPE_TRAIN_CHARS), vocabSize!) : await charTokenizerOfFile(dataPath);
  }
  const stop = installStopSignals();
  let result;
  try {
    result = await trainOnText({
      dataPath,
      outDir,
      resume,
      overwrite: v.overwrite === true,
      ...(init ? { init } : {}),
      ...(tokenizer ? { tokenizer } : {}),
      // With --init-from, --block-size only shortens the training window (checked against the model).
      model: fresh ? model : initFrom !== undefined ? withoutBlockSize(asked) : asked,
      train,
      ...(lora ? { lora } : {}),
      stop: stop.signal,
    });
  } finally {
    stop.dispose();
  }
  const last = result.lastEval;
  result.model.dispose();
  if (result.interrupted) {
    console.error(
      `interrupted at step ${result.step}: checkpoint saved in ${result.checkpointDir}; ` +
        `continue with: tinygpt train --out ${outDir} --resume`,
    );
    return INTERRUPTED_EXIT_CODE;
  }
  console.error(
    `done: ${last ? `step ${last.step}, train ${last.train.toFixed(4)}, val ${last.val.toFixed(4)}` : 'no evaluation'}; checkpoint ${result.checkpointDir}`,
  );
  return 0;
}
