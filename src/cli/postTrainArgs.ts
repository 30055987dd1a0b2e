import * as fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setBackend, type BackendName } from '../backend.js';
import { saveCheckpoint } from '../io/checkpoint.js';
import * as tf from '@tensorflow/tfjs-core';
import { applyLoRA, loraWeights, mergeLoRA, type LoRAOptions } from '../train/lora.js';
import { saveLoRA } from '../train/loraFiles.js';
import type { GPT } from '../model/gpt.js';
import { loadTrained } from '../pretrained/loadTrained.js';
import type { Tokenizer } from '../tokenizer/load.js';
import type { PostTrainOptions } from '../train/postTrain.js';
import type { StepRecord } from '../train/records.js';
import { CHECKPOINT_SUBDIR } from '../train/session.js';
import { CliError, defined, intFlag, numFlag, strFlag, type Values } from './args.js';

/** The LoRA flags train, sft and dpo share. */
export const LORA_FLAGS = {
  'lora-rank': { type: 'string' },
  'lora-alpha': { type: 'string' },
  'lora-targets': { type: 'string' },
  'lora-dropout': { type: 'string' },
} as const;

/** Flags sft and dpo share. */
export const POST_TRAIN_FLAGS = {
  'init-from': { type: 'string' },
  data: { type: 'string' },
  'eval-data': { type: 'string' },
  out: { type: 'string' },
  'max-length': { type: 'string' },
  'batch-size': { type: 'string' },
  'max-iters': { type: 'string' },
  epochs: { type: 'string' },
  lr: { type: 'string' },
  'min-lr': { type: 'string' },
  'warmup-iters': { type: 'string' },
  'weight-decay': { type: 'string' },
  'eval-interval': { type: 'string' },
  'log-interval': { type: 'string' },
  'grad-accum': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  ...LORA_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

export const POST_TRAIN_USAGE_FLAGS = `  --eval-data FILE.jsonl (held-out; default: the training data) --max-length N (default blockSize + 1)
  --batch-size 8 --epochs 1 | --max-iters N --lr 1e-4 --min-lr lr/10 --warmup-iters 0 --weight-decay 0
  --eval-interval 50 --log-interval 10 --grad-accum 1 --seed 1337 --backend auto|wasm|cpu|tensorflow
  LoRA: --lora-rank R [--lora-alpha 8] [--lora-targets q_proj,v_proj|c_attn,...] [--lora-dropout 0] trains only
  adapters; they are saved as DIR/adapter_model.safetensors + adapter_config.json (PEFT), and merged into DIR/ckpt.
  DIR (--init-from) is a folder written by tinygpt train, sft or dpo. The result goes to --out DIR/ckpt
  (load it with tinygpt sample --checkpoint DIR) with metrics in --out DIR/metrics.jsonl.`;

/** What every post-training command starts from. */
export interface PostTrainStart {
  readonly model: GPT;
  readonly tokenizer: Tokenizer;
  readonly dataText: string;
  readonly evalText: string | undefined;
  readonly dataFile: string;
  readonly evalFile: string | undefined;
  readonly outDir: string;
  readonly backend: string;
  readonly initFrom: string;
}

async function readData(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`--${flag} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass a JSONL file.`);
  }
}

/** Checks the required flags, reads the data, sets the backend and loads the starting model. */
export async function startPostTraining(v: Values, usage: string): Promise<PostTrainStart> {
  const initFrom = strFlag(v, 'init-from');
  if (!initFrom) throw new CliError(`--init-from DIR is required (a folder written by tinygpt train).\n${usage}`);
  const dataFile = strFlag(v, 'data');
  if (!dataFile) throw new CliError(`--data FILE.jsonl is required.\n${usage}`);
  const outDir = strFlag(v, 'out');
  if (!outDir) throw new CliError(`--out DIR is required.\n${usage}`);
  const evalFile = strFlag(v, 'eval-data');
  const dataText = await readData(dataFile, 'data');
  const evalText = evalFile === undefined ? undefined : await readData(evalFile, 'eval-data');
  const backend = await setBackend((strFlag(v, 'backend') ?? 'auto') as BackendName);
  const { model, tokenizer } = await loadTrained(initFrom);
  return { model, tokenizer, dataText, evalText, dataFile, evalFile, outDir, backend, initFrom };
}

/**
 * The trainer options from the flags. Without --max-iters the run lasts --epochs passes
 * (default 1) over `examples` training examples.
 */
export function postTrainOptions(v: Values, examples: number): PostTrainOptions {
  const batchSize = intFlag(v, 'batch-size') ?? 8;
  const gradAccumSteps = intFlag(v, 'grad-accum') ?? 1;
  const epochs = numFlag(v, 'epochs');
  let maxIters = intFlag(v, 'max-iters');
  if (maxIters !== undefined && epochs !== undefined) throw new CliError('give --epochs or --max-iters, not both.');
  if (epochs !== undefined && !(epochs > 0)) throw new CliError(`--epochs must be > 0, got ${epochs}.`);
  maxIters ??= Math.max(1, Math.ceil(((epochs ?? 1) * examples) / (batchSize * gradAccumSteps)));
  return defined({
    batchSize,
    gradAccumSteps,
    maxIters,
    maxLength: intFlag(v, 'max-length'),
    lr: numFlag(v, 'lr'),
    minLr: numFlag(v, 'min-lr'),
    warmupIters: intFlag(v, 'warmup-iters'),
    weightDecay: numFlag(v, 'weight-decay'),
    evalInterval: intFlag(v, 'eval-interval'),
    logInterval: intFlag(v, 'log-interval'),
    seed: intFlag(v, 'seed'),
  });
}

/** The --max-length in effect (flag or blockSize + 1), for tokenizing before the trainer exists. */
export function maxLengthOf(v: Values, model: GPT): number {
  const ml = intFlag(v, 'max-length') ?? model.config.blockSize + 1;
  if (ml < 2 || ml > model.config.blockSize + 1) {
    throw new CliError(`--max-length must be in [2, ${model.config.blockSize + 1}] (the model's blockSize + 1), got ${ml}.`);
  }
  return ml;
}

/** Prints the truncation warning TRL users expect, when anything was cut. */
export function warnTruncated(what: string, truncated: number, dropped: number, maxLength: number): void {
  if (truncated > 0) console.error(`warning: ${truncated} ${what} longer than --max-length ${maxLength} were truncated.`);
  if (dropped > 0) console.error(`warning: ${dropped} examples had no response token left after truncation and were skipped.`);
}

/** Appends records as JSON lines to <out>/metrics.jsonl (synchronously, so a killed run keeps them). */
export class RecordLog {
  private readonly fd: number;
  constructor(outDir: string) {
    fs.mkdirSync(outDir, { recursive: true });
    this.fd = fs.openSync(path.join(outDir, 'metrics.jsonl'), 'a');
  }
  write(rec: object): void {
    fs.writeSync(this.fd, `${JSON.stringify({ ...rec, time: new Date().toISOString() })}\n`);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

/** One progress line for a step record. */
export function stepLine(r: StepRecord, maxIters: number): string {
  return `step ${r.step}/${maxIters}: loss ${r.loss.toFixed(4)}, lr ${r.lr.toExponential(2)}, ${r.ms.toFixed(0)} ms/step`;
}

/** Writes the trained model as a tinygpt checkpoint in <out>/ckpt (atomic). */
export async function saveResult(outDir: string, model: GPT, tokenizer: Tokenizer, extra: object): Promise<string> {
  const dir = path.join(outDir, CHECKPOINT_SUBDIR);
  await saveCheckpoint(dir, {
    config: { model_type: 'tinygpt', ...model.config },
    weights: model.namedWeights(),
    tokenizer: tokenizer.toJSON(),
    trainer: extra,
  });
  return dir;
}

/** --lora-rank R [--lora-alpha A] [--lora-targets a,b] [--lora-dropout p] as LoRA options, or undefined without --lora-rank. */
export function loraOptionsFromFlags(v: Values): LoRAOptions | undefined {
  const rank = intFlag(v, 'lora-rank');
  const alpha = numFlag(v, 'lora-alpha');
  const targets = strFlag(v, 'lora-targets');
  const dropout = numFlag(v, 'lora-dropout');
  if (rank === undefined) {
    if (alpha !== undefined || targets !== undefined || dropout !== undefined) {
      throw new CliError('--lora-alpha, --lora-targets and --lora-dropout need --lora-rank R.');
    }
    return undefined;
  }
  const list = targets?.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  return defined({ rank, alpha, dropout, targets: list }) as LoRAOptions;
}

/**
 * With --lora-rank, attaches LoRA adapters (freezing the base) and returns the weights to train;
 * without it, undefined (every weight trains). The LoRA flags are checked before anything loads.
 */
export function loraFromFlags(v: Values, model: GPT): Map<string, tf.Variable> | undefined {
  const options = loraOptionsFromFlags(v);
  if (options === undefined) return undefined;
  try {
    applyLoRA(model, options);
  } catch (e) {
    throw new CliError(`--lora-*: ${(e as Error).message}`);
  }
  const w = loraWeights(model);
  let n = 0;
  for (const x of w.values()) n += x.size;
  console.error(`LoRA: ${w.size / 2} adapters, ${n} trainable parameters of ${model.numParams()} (base frozen)`);
  return w;
}

/** Writes the result: with LoRA the adapters (PEFT files in <out>) and then the merged model in <out>/ckpt. */
export async function saveTrained(s: PostTrainStart, lora: boolean, extra: object): Promise<string> {
  if (lora) {
    await saveLoRA(s.model, s.outDir, { baseModel: s.initFrom });
    console.error(`adapters: ${path.join(s.outDir, 'adapter_model.safetensors')} + adapter_config.json`);
    mergeLoRA(s.model);
  }
  return saveResult(s.outDir, s.model, s.tokenizer, extra);
}
