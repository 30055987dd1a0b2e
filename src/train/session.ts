import * as path from 'node:path';
import { TextDataset } from '../data/dataset.js';
import { loadCheckpoint, saveCheckpoint } from '../io/checkpoint.js';
import { resolveConfig, type GPTConfig } from '../config/config.js';
import { GPT } from '../model/gpt.js';
import { assignWeights, canonicalMoments, canonicalWeights } from '../io/weights.js';
import { tokenizerFromJSON, type Tokenizer } from '../tokenizer/load.js';
import { MetricsWriter } from './metrics.js';
import type { TrainOptions } from './options.js';
import { ProgressReporter } from './progress.js';
import type { EvalRecord, TrainRecord } from './records.js';
import { Trainer, type TrainerState } from './trainer.js';

/** The checkpoint lives in a subfolder, so metrics and plots beside it survive each atomic swap. */
export const CHECKPOINT_SUBDIR = 'ckpt';

/** A training run on one text: what {@link trainOnText} needs. */
export interface TrainSessionOptions {
  /** The corpus. */
  readonly text: string;
  /** Output folder: <out>/ckpt (checkpoint) and <out>/metrics.jsonl. */
  readonly outDir: string;
  /** Builds the tokenizer for a fresh run (ignored on resume, which reuses the saved one). */
  readonly makeTokenizer: (text: string) => Tokenizer;
  /** Model shape; vocabSize comes from the tokenizer. */
  readonly model: Omit<GPTConfig, 'vocabSize'>;
  /** Trainer hyperparameters. */
  readonly train: TrainOptions;
  /** Continue from <out>/ckpt instead of starting fresh. */
  readonly resume?: boolean;
  /** Progress output; false silences it. */
  readonly progress?: ProgressReporter | false;
  /** Called with every record (after it is logged and any checkpoint is written). */
  readonly onRecord?: (record: TrainRecord) => void;
}

/** What a finished run leaves behind. */
export interface TrainSessionResult {
  readonly model: GPT;
  readonly tokenizer: Tokenizer;
  readonly checkpointDir: string;
  readonly lastEval: EvalRecord | undefined;
}

function tokenize(tokenizer: Tokenizer, text: string): TextDataset {
  return new TextDataset(Int32Array.from(tokenizer.encode(text)));
}

/**
 * Trains a GPT on a text with checkpoints at every evaluation (atomic: see io/checkpoint.ts),
 * metrics as JSON lines and a progress bar; resumes exactly from the last checkpoint.
 * The caller owns the returned model.
 */
export async function trainOnText(o: TrainSessionOptions): Promise<TrainSessionResult> {
  const ckptDir = path.join(o.outDir, CHECKPOINT_SUBDIR);
  let tokenizer: Tokenizer;
  let model: GPT;
  let state: TrainerState | undefined;
  let trainOptions: TrainOptions = o.train;
  if (o.resume) {
    const ck = await loadCheckpoint(ckptDir);
    if (!ck.optimizer || !ck.trainer) {
      throw new Error(`${ckptDir} has no optimizer or trainer state, so it cannot be resumed; start without --resume.`);
    }
    tokenizer = tokenizerFromJSON(ck.tokenizer);
    model = new GPT(resolveConfig(ck.config as unknown as GPTConfig));
    const file = path.join(ckptDir, 'model.safetensors');
    assignWeights(model.namedWeights(), canonicalWeights(model.config, ck.weights, file), file);
    const saved = ck.trainer as { options?: TrainOptions; state?: Omit<TrainerState, 'optimizer'> };
    if (!saved.state) throw new Error(`${ckptDir}/trainer.json lacks "state"; the checkpoint is not resumable.`);
    // The saved options win, except the run length, which a user may extend.
    trainOptions = { ...saved.options, ...(o.train.maxIters !== undefined ? { maxIters: o.train.maxIters } : {}) };
    const moments = (m: ReadonlyMap<string, Float32Array>) => canonicalMoments(model.config, m, ck.weights, file);
    state = { ...saved.state, optimizer: { ...ck.optimizer, m: moments(ck.optimizer.m), v: moments(ck.optimizer.v) } };
  } else {
    tokenizer = o.makeTokenizer(o.text);
    model = new GPT({ ...o.model, vocabSize: tokenizer.vocabSize });
  }
  const dataset = tokenize(tokenizer, o.text);
  const trainer = state ? Trainer.restore(model, dataset, trainOptions, state) : new Trainer(model, dataset, trainOptions);
  const progress = o.progress === false ? undefined : (o.progress ?? new ProgressReporter({ maxIters: trainer.options.maxIters }));
  const metrics = new MetricsWriter(o.outDir);
  let lastEval: EvalRecord | undefined;
  try {
    for await (const rec of trainer.run()) {
      progress?.report(rec);
      metrics.write(rec);
      if (rec.kind === 'eval') {
        lastEval = rec;
        const s = trainer.state();
        await saveCheckpoint(ckptDir, {
          config: { model_type: 'tinygpt', ...model.config },
          weights: model.namedWeights(),
          tokenizer: tokenizer.toJSON(),
          optimizer: s.optimizer,
          trainer: { options: trainer.options, state: { step: s.step, rng: s.rng, evalRng: s.evalRng }, lastEval: rec },
        });
      }
      o.onRecord?.(rec);
    }
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    progress?.finish();
    metrics.close();
    trainer.dispose();
  }
  return { model, tokenizer, checkpointDir: ckptDir, lastEval };
}
