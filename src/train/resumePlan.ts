/**
 * What a resumed or fine-tuned run may change. The model's shape is fixed by the checkpoint
 * (or the --init-from folder): a flag asking for another shape is an error. Optimizer and
 * schedule options may change on resume: the new value applies from the checkpoint's step and
 * one line says so; the run's seed may not (its random streams continue from the checkpoint).
 */
import type { TrainOptions } from './options.js';

/** The saved trainer options merged with the new ones, and the lines that tell the user. */
export interface ResumePlan {
  /** Options to continue with. */
  readonly options: TrainOptions;
  /** One line per kind of change (empty when nothing changed). */
  readonly notices: readonly string[];
}

/** Camel-case option → the CLI flag that sets it, for messages. */
const FLAG: Readonly<Record<string, string>> = {
  batchSize: '--batch-size', blockSize: '--block-size', maxIters: '--max-iters', lr: '--lr', minLr: '--min-lr',
  warmupIters: '--warmup-iters', lrDecayIters: '--lr-decay-iters', weightDecay: '--weight-decay',
  gradAccumSteps: '--grad-accum', evalInterval: '--eval-interval', evalIters: '--eval-iters', seed: '--seed', workers: '--workers',
  nLayer: '--n-layer', nHead: '--n-head', nEmbd: '--n-embd', dropout: '--dropout', ffnHidden: '--n-embd',
};

/** "nLayer (--n-layer)" where a flag exists. */
export function describeField(field: string): string {
  return FLAG[field] !== undefined ? `${field} (${FLAG[field]})` : field;
}

/**
 * Throws when `requested` (only the fields a user asked for) differs from the model config
 * `actual`; `where` names the source ("the checkpoint in out/ckpt").
 */
export function checkSameShape(actual: Readonly<Record<string, unknown>>, requested: Readonly<Record<string, unknown>>, where: string, fix: string): void {
  const diffs = Object.entries(requested)
    .filter(([k, v]) => v !== undefined && JSON.stringify(actual[k]) !== JSON.stringify(v))
    .map(([k, v]) => `${describeField(k)} ${JSON.stringify(v)} (it has ${JSON.stringify(actual[k]) ?? 'none'})`);
  if (diffs.length > 0) throw new Error(`${where} cannot take ${diffs.join(', ')}: the model's shape is fixed; ${fix}`);
}

const fmt = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v));

/**
 * Merges the options saved in a checkpoint with the ones asked for now (undefined = keep).
 * `step` is the checkpoint's step, where changed values take effect.
 */
export function planResume(saved: Readonly<Record<string, unknown>>, requested: TrainOptions, step: number): ResumePlan {
  const asked = Object.fromEntries(Object.entries(requested).filter(([, v]) => v !== undefined)) as Record<string, unknown>;
  if (asked.seed !== undefined && saved.seed !== undefined && asked.seed !== saved.seed) {
    throw new Error(
      `--resume cannot change ${describeField('seed')} from ${fmt(saved.seed)} to ${fmt(asked.seed)}: ` +
        'the run continues the checkpoint\'s random streams; drop the flag, or start a new run with --overwrite.',
    );
  }
  const changed = Object.keys(asked).filter((k) => k !== 'maxIters' && k !== 'seed' && saved[k] !== asked[k]);
  const options = { ...(saved as TrainOptions), ...(asked as TrainOptions) };
  const notices: string[] = [];
  if (changed.length > 0) {
    notices.push(`resume: from step ${step}, ${changed.map((k) => `${k} ${fmt(saved[k])} → ${fmt(asked[k])}`).join(', ')} (the new values apply from here on).`);
  }
  const oldMax = saved.maxIters;
  const newMax = asked.maxIters;
  if (typeof newMax === 'number' && typeof oldMax === 'number' && newMax !== oldMax) {
    const decay = (asked.lrDecayIters ?? saved.lrDecayIters) as number;
    const minLr = (asked.minLr ?? saved.minLr) as number;
    const tail =
      decay < newMax
        ? `the cosine decay ends at step ${decay} (lrDecayIters), so steps ${Math.max(decay, step)}–${newMax} run at minLr ${fmt(minLr)}; ` +
          `pass --lr-decay-iters ${newMax} to decay over the whole run instead.`
        : `the learning rate keeps its cosine decay to minLr ${fmt(minLr)} at step ${decay} (lrDecayIters).`;
    notices.push(`resume: maxIters ${oldMax} → ${newMax} from step ${step}; ${tail}`);
  }
  return { options, notices };
}
