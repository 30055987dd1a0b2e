import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainRecord } from './records.js';

/**
 * Appends Trainer records as JSON lines (one object per line) to `<outDir>/metrics.jsonl`,
 * the format plotting scripts and `jq` read line by line. Each write is synchronous, so the
 * file is complete up to the last record even if the process is killed mid-run; appending
 * means a resumed run extends the same file.
 */
export class MetricsWriter {
  /** Full path of the JSON-lines file. */
  readonly path: string;
  private fd: number | null;

  constructor(outDir: string, fileName = 'metrics.jsonl') {
    if (typeof outDir !== 'string' || outDir.length === 0) {
      throw new Error('MetricsWriter: outDir must be a non-empty folder path.');
    }
    this.path = path.join(outDir, fileName);
    try {
      fs.mkdirSync(outDir, { recursive: true });
      this.fd = fs.openSync(this.path, 'a');
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(`MetricsWriter: cannot open ${this.path} for appending (${why}); choose a writable output folder.`);
    }
  }

  /** Appends one record, stamped with the wall-clock time (ISO 8601). */
  write(record: TrainRecord): void {
    if (this.fd === null) throw new Error(`MetricsWriter: ${this.path} is already closed; create a new writer.`);
    fs.writeSync(this.fd, `${JSON.stringify({ ...record, time: new Date().toISOString() })}\n`);
  }

  /** Closes the file; further writes throw. */
  close(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
