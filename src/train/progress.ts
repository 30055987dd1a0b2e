import type { EvalRecord, StepRecord, TrainRecord } from './records.js';

/** The slice of a Node writable stream the reporter uses (process.stderr fits). */
export interface ProgressStream {
  write(text: string): unknown;
  /** True on an interactive terminal. */
  readonly isTTY?: boolean;
  /** Terminal width, when known. */
  readonly columns?: number;
}

/** How and where progress is shown. */
export interface ProgressOptions {
  /** Total optimizer steps of the run, for the bar and the ETA. */
  readonly maxIters: number;
  /** Destination (default process.stderr). */
  readonly stream?: ProgressStream;
  /** Redraw one line with \r (true) or print one line per record (false); default stream.isTTY. */
  readonly tty?: boolean;
  /** Characters between the bar's brackets. */
  readonly barWidth?: number;
}

/** "45s", "3m12s", "1h02m": short enough for a status line. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** "850 tok/s", "12.3k tok/s", "1.20M tok/s". */
export function formatRate(tokensPerSec: number): string {
  if (tokensPerSec >= 1e6) return `${(tokensPerSec / 1e6).toFixed(2)}M tok/s`;
  if (tokensPerSec >= 1e3) return `${(tokensPerSec / 1e3).toFixed(1)}k tok/s`;
  return `${Math.round(tokensPerSec)} tok/s`;
}

/** Time left if the remaining steps run at the last record's pace. */
export function estimateRemainingMs(rec: StepRecord, maxIters: number): number {
  return Math.max(0, maxIters - rec.step) * rec.ms;
}

/** The fields of a step record as one human-readable line (no bar). */
export function formatStep(rec: StepRecord, maxIters: number): string {
  const parts = [
    `step ${rec.step}/${maxIters}`,
    `loss ${rec.loss.toFixed(4)}`,
    `lr ${rec.lr.toExponential(2)}`,
  ];
  if (rec.gradNorm !== null) parts.push(`|g| ${rec.gradNorm.toFixed(2)}`);
  parts.push(formatRate(rec.tokensPerSec), `${rec.ms.toFixed(1)} ms/step`, `ETA ${formatDuration(estimateRemainingMs(rec, maxIters))}`);
  return parts.join('  ');
}

/** An evaluation as one line. */
export function formatEval(rec: EvalRecord, maxIters: number): string {
  return `eval step ${rec.step}/${maxIters}  train ${rec.train.toFixed(4)}  val ${rec.val.toFixed(4)}  (${formatDuration(rec.ms)})`;
}

/** "[#####-----]" filled in proportion to done/total. */
export function progressBar(done: number, total: number, width: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/**
 * Shows Trainer records to a person. On a terminal it keeps one status line redrawn in place
 * (evaluations are printed above it and stay in the scrollback); elsewhere (a log file, CI)
 * every record is its own line, since \r would only garble the file.
 */
export class ProgressReporter {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly maxIters: number;
  private readonly barWidth: number;
  private statusLine: string | null = null;

  constructor(options: ProgressOptions) {
    if (!Number.isInteger(options.maxIters) || options.maxIters < 0) {
      throw new Error(`ProgressReporter: maxIters must be an integer >= 0, got ${String(options.maxIters)}.`);
    }
    this.maxIters = options.maxIters;
    const stream = options.stream ?? (typeof process !== 'undefined' ? process.stderr : undefined);
    if (stream === undefined) {
      throw new Error('ProgressReporter: there is no process.stderr here (not Node); pass options.stream.');
    }
    this.stream = stream;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.barWidth = options.barWidth ?? 20;
    if (!Number.isInteger(this.barWidth) || this.barWidth < 1) {
      throw new Error(`ProgressReporter: barWidth must be an integer >= 1, got ${String(options.barWidth)}.`);
    }
  }

  /** Shows one record. */
  report(rec: TrainRecord): void {
    if (rec.kind === 'step') {
      const text = formatStep(rec, this.maxIters);
      if (!this.tty) {
        this.stream.write(`${text}\n`);
        return;
      }
      this.statusLine = `${progressBar(rec.step, this.maxIters, this.barWidth)} ${text}`;
      this.redraw();
    } else {
      const text = formatEval(rec, this.maxIters);
      if (!this.tty) {
        this.stream.write(`${text}\n`);
        return;
      }
      // Erase the status line, print the evaluation for good, then put the status back.
      this.stream.write(`\r\x1b[K${text}\n`);
      if (this.statusLine !== null) this.redraw();
    }
  }

  /** Ends the status line so later output starts on a fresh line. */
  finish(): void {
    if (this.tty && this.statusLine !== null) this.stream.write('\n');
    this.statusLine = null;
  }

  private redraw(): void {
    const line = this.statusLine ?? '';
    // A line wider than the terminal wraps, and \r then only returns to the wrapped part.
    const cols = this.stream.columns;
    const fitted = cols !== undefined && cols > 1 && line.length >= cols ? line.slice(0, cols - 1) : line;
    this.stream.write(`\r${fitted}\x1b[K`);
  }
}
