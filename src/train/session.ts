import type * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TextDataset } from '../data/dataset.js';
import { encodeText, encodeTextFile } from '../data/corpus.js';
import { loadCheckpoint, saveCheckpoint } from '../io/checkpoint.js';
import { resolveConfig, type GPTConfig } from '../config/config.js';
import { GPT } from '../model/gpt.js';
import { assignWeights, canonicalMoments, canonicalWeights, checkWeights } from '../io/weights.js';
import { canonicalTensors } from '../config/names.js';
import { tokenizerFromJSON, type Tokenizer } from '../tokenizer/load.js';
import { MetricsWriter } from './metrics.js';
import { resolveTrainOptions, type TrainOptions } from './options.js';
import { ProgressReporter } from './progress.js';
import type { EvalRecord, TrainRecord } from './records.js';
import { checkSameShape, planResume } from './resumePlan.js';
import { CHECKPOINT_SUBDIR, METRICS_FILE, openRunFolder, type RunFolder } from './runFolder.js';
import { Trainer, type TrainerState } from './trainer.js';
import type { LoRAOptions } from './lora.js';
import { ADAPTER_CONFIG_FILE, saveLoRA } from './loraFiles.js';
import { checkpointAdapters, resumeLoRA, startLoRA } from './loraSession.js';

export { CHECKPOINT_SUBDIR };

/** A model to fine-tune from, with its tokenizer (pretrained/initFrom.ts loads one from a folder). */
export interface SessionInitialModel {
  /** The starting weights; the session takes ownership. */
  readonly model: GPT;
  /** The tokenizer the model's ids belong to. */
  readonly tokenizer: Tokenizer;
  /** Where it came from, for messages. */
  readonly dir: string;
}

/** A training run on one text: what {@link trainOnText} needs. */
export interface TrainSessionOptions {
  /** The corpus in memory (or give dataPath). */
  readonly text?: string;
  /** The corpus as a UTF-8 file, read and tokenized as a stream with bounded memory (or give text). */
  readonly dataPath?: string;
  /** Output folder: <out>/ckpt (checkpoint), <out>/metrics.jsonl, <out>/tinygpt.lock while running. */
  readonly outDir: string;
  /** Builds the tokenizer of a fresh run from `text` (ignored on resume and with init). */
  readonly makeTokenizer?: (text: string) => Tokenizer;
  /** The tokenizer of a fresh run, ready-made (e.g. built while streaming dataPath). */
  readonly tokenizer?: Tokenizer;
  /** Model shape of a fresh run (vocabSize comes from the tokenizer); on resume or with init, only fields asked for, checked against the model. */
  readonly model: Omit<GPTConfig, 'vocabSize'>;
  /** Trainer hyperparameters; on resume, the fields given replace the saved ones (and are reported). */
  readonly train: TrainOptions;
  /** Continue from <out>/ckpt instead of starting fresh. */
  readonly resume?: boolean;
  /** Delete a run already in outDir and start over (without it, such a folder is refused). */
  readonly overwrite?: boolean;
  /** Start from these weights and tokenizer instead of a fresh model; the optimizer starts fresh. */
  readonly init?: SessionInitialModel;
  /**
   * Train LoRA adapters over a frozen base (PEFT's LoraConfig in camelCase). On resume the
   * adapters and their settings come from the checkpoint (settings given must match). The
   * adapters are saved in the checkpoint and as <out>/adapter_model.safetensors + adapter_config.json.
   */
  readonly lora?: LoRAOptions;
  /** When aborted, training stops after the current step and writes a checkpoint. */
  readonly stop?: AbortSignal;
  /** Progress output; false silences it. */
  readonly progress?: ProgressReporter | false;
  /** One-line notices (recovery, changed options); false silences them. Default: stderr. */
  readonly notify?: ((line: string) => void) | false;
  /** Called with every record (after it is logged and any checkpoint is written). */
  readonly onRecord?: (record: TrainRecord) => void;
}

/** What a finished (or interrupted) run leaves behind. */
export interface TrainSessionResult {
  readonly model: GPT;
  readonly tokenizer: Tokenizer;
  readonly checkpointDir: string;
  readonly lastEval: EvalRecord | undefined;
  /** Optimizer steps completed. */
  readonly step: number;
  /** True when `stop` ended the run before maxIters (a checkpoint of `step` was written). */
  readonly interrupted: boolean;
}

interface Start {
  readonly model: GPT;
  readonly tokenizer: Tokenizer;
  readonly options: TrainOptions;
  readonly state?: TrainerState;
  /** The weights that train when they are not all of the model's (LoRA's adapters). */
  readonly weights?: Map<string, tf.Variable>;
}

/** Model, tokenizer, options and state of a resumed run, checked against what was asked. */
async function resumeFrom(folder: RunFolder, o: TrainSessionOptions, notify: (l: string) => void): Promise<Start> {
  const ckptDir = folder.checkpointDir;
  const ck = await loadCheckpoint(ckptDir);
  if (!ck.optimizer || !ck.trainer) {
    throw new Error(`${ckptDir} has no optimizer or trainer state, so it cannot be resumed; start over with --overwrite.`);
  }
  const saved = ck.trainer as { options?: Record<string, unknown>; state?: Omit<TrainerState, 'optimizer'> };
  if (!saved.state || !saved.options) throw new Error(`${ckptDir}/trainer.json lacks "state" or "options"; the checkpoint is not resumable.`);
  const config = resolveConfig(ck.config as unknown as GPTConfig);
  checkSameShape(config, o.model, `--resume of ${ckptDir}`, 'drop those flags to resume, or start a new run (--overwrite or another --out).');
  const tokenizer = tokenizerFromJSON(ck.tokenizer);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(`${ckptDir}: tokenizer.json has ${tokenizer.vocabSize} tokens but the model only ${config.vocabSize}; the files belong to different runs.`);
  }
  const plan = planResume(saved.options, o.train, saved.state.step);
  plan.notices.forEach(notify);
  const file = `${ckptDir}/model.safetensors`;
  // Checkpoints from before the weight names were unified are converted (io/weights.ts); a config
  // that disagrees with the weights is reported before the model is allocated.
  const weights = canonicalWeights(config, ck.weights, file);
  checkWeights(new Map(canonicalTensors(config).map((t) => [t.name, t.shape] as const)), weights, file);
  const model = new GPT(config, { initialize: false });
  try {
    assignWeights(model.namedWeights(), weights, file);
    const moments = (m: ReadonlyMap<string, Float32Array>) => canonicalMoments(model.config, m, ck.weights, file);
    const optimizer = { ...ck.optimizer, m: moments(ck.optimizer.m), v: moments(ck.optimizer.v) };
    const trained = await resumeLoRA(model, ckptDir, o.lora, o.train.workers, notify);
    return { model, tokenizer, options: plan.options, state: { ...saved.state, optimizer }, ...(trained ? { weights: trained } : {}) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

function encodeCorpus(o: TrainSessionOptions, tokenizer: Tokenizer, init: boolean): Promise<Int32Array> {
  const run = async (): Promise<Int32Array> =>
    o.text !== undefined ? encodeText(o.text, tokenizer) : encodeTextFile(o.dataPath!, tokenizer);
  if (!init) return run();
  return run().catch((e: unknown) => {
    const msg = (e as Error).message;
    if (!/not in the vocabulary/.test(msg)) throw e;
    throw new Error(
      `the corpus has characters that the --init-from model's character vocabulary (${o.init!.dir}) lacks: ` +
        `${msg.replace(/^Characters not in the vocabulary: /, '').replace(/ \(the tokenizer.*$/, '')}; remove them from the text, or train a new model.`,
    );
  });
}

/**
 * Trains a GPT on a text with checkpoints at every evaluation (atomic: see io/checkpoint.ts),
 * metrics as JSON lines and a progress bar. Takes the output folder's lock, recovers an
 * interrupted save, refuses a folder holding another run unless resume or overwrite is set,
 * checks the corpus fits blockSize before the first step, and resumes exactly from the last
 * checkpoint. The caller owns the returned model.
 */
export async function trainOnText(o: TrainSessionOptions): Promise<TrainSessionResult> {
  if ((o.text === undefined) === (o.dataPath === undefined)) throw new Error('trainOnText: give exactly one of text and dataPath.');
  if (o.resume && o.overwrite) throw new Error('--resume continues the run in --out and --overwrite deletes it: choose one.');
  if (o.resume && o.init) throw new Error('--resume continues the run in --out and --init-from starts a new one: choose one.');
  const notify = o.notify === false ? () => undefined : (o.notify ?? ((l: string) => void process.stderr.write(`${l}\n`)));
  const folder = await openRunFolder(o.outDir, o.resume ? 'resume' : o.overwrite ? 'overwrite' : 'refuse');
  let start: Start | undefined;
  try {
    if (folder.recovery.promoted) notify(`recovered the checkpoint of an interrupted save (${folder.recovery.promoted} → ${folder.checkpointDir}).`);
    if (o.resume) {
      start = await resumeFrom(folder, o, notify);
    } else if (o.init) {
      checkSameShape(o.init.model.config, o.model, `--init-from ${o.init.dir}`, 'drop those flags: the shape comes from the folder.');
      start = { model: o.init.model, tokenizer: o.init.tokenizer, options: { blockSize: o.init.model.config.blockSize, ...o.train } };
    } else {
      const tokenizer = o.tokenizer ?? (o.makeTokenizer && o.text !== undefined ? o.makeTokenizer(o.text) : undefined);
      if (!tokenizer) throw new Error('trainOnText: a fresh run needs `tokenizer`, or `makeTokenizer` with `text`.');
      start = { model: new GPT({ ...o.model, vocabSize: tokenizer.vocabSize }), tokenizer, options: o.train };
    }
    if (!o.resume && o.lora !== undefined) start = { ...start, weights: startLoRA(start.model, o.lora, start.options.workers, notify) };
    return await run(o, folder, start, notify);
  } catch (e) {
    start?.model.dispose();
    if (!start) o.init?.model.dispose();
    throw e;
  } finally {
    folder.lock.release();
  }
}

async function run(o: TrainSessionOptions, folder: RunFolder, start: Start, notify: (l: string) => void): Promise<TrainSessionResult> {
  const { model, tokenizer } = start;
  const resolved = resolveTrainOptions(start.options, model.config);
  // Before anything slow: a split too short for a window would otherwise fail at the first eval.
  const dataset = new TextDataset(await encodeCorpus(o, tokenizer, o.init !== undefined), { copy: false });
  dataset.checkFits(resolved.blockSize);
  const setup = start.weights ? { weights: start.weights } : {};
  const trainer = start.state ? Trainer.restore(model, dataset, start.options, start.state, setup) : new Trainer(model, dataset, start.options, setup);
  // A resumed run keeps the base its first leg named (the checkpoint's adapter_config.json).
  const baseModel = o.init?.dir ?? (o.resume ? savedBaseModel(folder.checkpointDir) : undefined);
  const progress = o.progress === false ? undefined : (o.progress ?? new ProgressReporter({ maxIters: trainer.options.maxIters }));
  let metrics: MetricsWriter | undefined;
  let lastEval: EvalRecord | undefined;
  let savedStep = start.state?.step ?? -1;
  const save = async (rec: EvalRecord | undefined): Promise<void> => {
    const s = trainer.state();
    try {
      await saveCheckpoint(folder.checkpointDir, {
        config: { model_type: 'tinygpt', ...model.config },
        weights: model.namedWeights(),
        tokenizer: tokenizer.toJSON(),
        optimizer: s.optimizer,
        trainer: { options: trainer.options, state: { step: s.step, rng: s.rng, evalRng: s.evalRng }, ...(rec ? { lastEval: rec } : {}) },
        adapters: checkpointAdapters(model, baseModel),
      });
      // PEFT's files beside the checkpoint, as sft and dpo write them (the checkpoint holds its own copy).
      if (start.weights) await saveLoRA(model, folder.outDir, baseModel === undefined ? {} : { baseModel });
    } catch (e) {
      const last = savedStep >= 0 ? `the last checkpoint (step ${savedStep}) in ${folder.checkpointDir} is intact` : 'no checkpoint was written yet';
      throw new Error(`saving the checkpoint of step ${s.step} failed: ${(e as Error).message.replace(/\.$/, '')}; ${last}.`, { cause: e });
    }
    savedStep = s.step;
  };
  try {
    metrics = new MetricsWriter(folder.outDir, METRICS_FILE);
    if (metrics.torn > 0) notify(`${metrics.path}: cut off a torn last line (${metrics.torn} bytes) left by an interrupted write.`);
    for await (const rec of trainer.run({ signal: o.stop })) {
      progress?.report(rec);
      metrics.write(rec);
      if (rec.kind === 'eval') {
        lastEval = rec;
        await save(rec);
      }
      o.onRecord?.(rec);
    }
    const interrupted = o.stop?.aborted === true && trainer.step < trainer.options.maxIters;
    if (interrupted && trainer.step !== savedStep) await save(undefined);
    return { model, tokenizer, checkpointDir: folder.checkpointDir, lastEval, step: trainer.step, interrupted };
  } finally {
    progress?.finish();
    metrics?.close();
    trainer.dispose();
  }
}

/** base_model_name_or_path of a checkpoint's adapters, when it has adapters that name one. */
function savedBaseModel(ckptDir: string): string | undefined {
  const file = path.join(ckptDir, ADAPTER_CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const base = (JSON.parse(readFileSync(file, 'utf8')) as { base_model_name_or_path?: unknown }).base_model_name_or_path;
    return typeof base === 'string' ? base : undefined;
  } catch {
    return undefined; // resumeLoRA reports a broken adapter file with its own message
  }
}
