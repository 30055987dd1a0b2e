/**
 * Reading the metrics.jsonl that training writes (src/train/metrics.ts): one JSON object per
 * line, `{kind:'step', step, loss, lr, ...}` or `{kind:'eval', step, train, val, ...}`.
 */

/** One training step's loss and learning rate. */
export interface StepPoint {
  /** Optimizer steps completed. */
  readonly step: number;
  /** null when the loss was not finite (JSON writes NaN and Infinity as null): a diverged step. */
  readonly loss: number | null;
  /** Learning rate the step used. */
  readonly lr: number;
}

/** One evaluation's mean train and validation loss. */
export interface EvalPoint {
  /** Optimizer steps completed when evaluated. */
  readonly step: number;
  /** null when not finite, as for {@link StepPoint.loss}. */
  readonly train: number | null;
  /** null when not finite. */
  readonly val: number | null;
}

/** A parsed log, each list sorted by step with one entry per step. */
export interface MetricsLog {
  /** The step records (training loss and learning rate). */
  readonly steps: readonly StepPoint[];
  /** The eval records (train and validation loss). */
  readonly evals: readonly EvalPoint[];
  /** One warning per torn line skipped (present only when a line was skipped). */
  readonly skipped?: readonly string[];
}

function field(rec: Record<string, unknown>, key: string, where: string): number {
  const v = rec[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new Error(`${where}: "${key}" must be a finite number, got ${JSON.stringify(v) ?? 'nothing'}.`);
  }
  return v;
}

/** A loss value: null stands for NaN or Infinity, which JSON.stringify writes as null. */
function lossField(rec: Record<string, unknown>, key: string, where: string): number | null {
  return rec[key] === null ? null : field(rec, key, where);
}

/** Sorted by step; a later record for the same step replaces an earlier one. */
function byStep<T extends { readonly step: number }>(points: readonly T[]): T[] {
  const last = new Map<number, T>();
  for (const p of points) last.set(p.step, p);
  return [...last.values()].sort((a, b) => a.step - b.step);
}

/**
 * Parses metrics.jsonl text. A loss of null (a NaN or infinite loss) is kept as a gap. Blank
 * lines and records of other kinds are skipped. A line that is not valid JSON is a torn record
 * (a write cut off by a full disk or a kill, perhaps with the next record appended to it): it
 * is skipped and named in `skipped`. A JSON value that is not an object, or a step/eval record
 * missing a number, throws an Error naming the line. A resumed run appends to the same file and may repeat the steps after its last
 * checkpoint: the later record of a step wins, since it belongs to the run that continued.
 */
export function parseMetricsLog(content: string, fileName = 'metrics.jsonl'): MetricsLog {
  if (typeof content !== 'string') throw new Error(`parseMetricsLog: content of ${fileName} must be a string.`);
  const steps: StepPoint[] = [];
  const evals: EvalPoint[] = [];
  const skipped: string[] = [];
  content.split('\n').forEach((line, i) => {
    const where = `${fileName} line ${i + 1}`;
    if (line.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      skipped.push(`${where}: not valid JSON (a torn record, ${line.length} characters); skipped.`);
      return;
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new Error(`${where}: expected a JSON object.`);
    const r = rec as Record<string, unknown>;
    if (r.kind === 'step') {
      steps.push({ step: field(r, 'step', where), loss: lossField(r, 'loss', where), lr: field(r, 'lr', where) });
    } else if (r.kind === 'eval') {
      evals.push({ step: field(r, 'step', where), train: lossField(r, 'train', where), val: lossField(r, 'val', where) });
    }
  });
  return { steps: byStep(steps), evals: byStep(evals), ...(skipped.length > 0 ? { skipped } : {}) };
}
