import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainRecord } from './records.js';

/**
 * Cuts a torn last line (bytes after the last newline, left by a write that a full disk or a
 * kill interrupted) off a JSON-lines file. Returns the number of bytes removed (0 if none).
 */
export function truncateTornTail(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  try {
    const size = fs.fstatSync(fd).size;
    // Scan backwards in blocks for the last newline; a torn line is at most one record long.
    const block = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const n = fs.readSync(fd, block, 0, end - start, start);
      const nl = block.subarray(0, n).lastIndexOf(0x0a);
      if (nl >= 0) {
        const keep = start + nl + 1;
        if (keep < size) fs.ftruncateSync(fd, keep);
        return size - keep;
      }
      end = start;
    }
    if (size > 0) fs.ftruncateSync(fd, 0);
    return size;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Appends Trainer records as JSON lines (one object per line) to `<outDir>/metrics.jsonl`,
 * the format plotting scripts and `jq` read line by line. Each record is written whole or not
 * at all: one write of the full line, and a failed or short write is cut back off. A torn
 * last line left by a killed process is cut off when the file is opened again (`torn` says how
 * many bytes), so a resumed run never appends onto half a record.
 */
export class MetricsWriter {
  /** Full path of the JSON-lines file. */
  readonly path: string;
  /** Bytes of a torn last line removed on opening (0 when the file ended cleanly). */
  readonly torn: number;
  private fd: number | null;
  private size: number;

  constructor(outDir: string, fileName = 'metrics.jsonl') {
    if (typeof outDir !== 'string' || outDir.length === 0) {
      throw new Error('MetricsWriter: outDir must be a non-empty folder path.');
    }
    this.path = path.join(outDir, fileName);
    try {
      fs.mkdirSync(outDir, { recursive: true });
      this.torn = truncateTornTail(this.path);
      this.fd = fs.openSync(this.path, 'a');
      this.size = fs.fstatSync(this.fd).size;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(`MetricsWriter: cannot open ${this.path} for appending (${why}); choose a writable output folder.`);
    }
  }

  /** Appends one record, stamped with the wall-clock time (ISO 8601). */
  write(record: TrainRecord): void {
    if (this.fd === null) throw new Error(`MetricsWriter: ${this.path} is already closed; create a new writer.`);
    const line = Buffer.from(`${JSON.stringify({ ...record, time: new Date().toISOString() })}\n`, 'utf8');
    let written = 0;
    let failure: unknown;
    try {
      written = fs.writeSync(this.fd, line);
    } catch (e) {
      failure = e;
    }
    if (written === line.length) {
      this.size += written;
      return;
    }
    // Whole or not at all: drop whatever part of the line reached the file.
    try {
      fs.ftruncateSync(this.fd, this.size);
    } catch {
      // The next open cuts the torn tail instead.
    }
    const code = (failure as NodeJS.ErrnoException | undefined)?.code;
    const why = code === 'ENOSPC' ? 'the disk is full' : failure instanceof Error ? failure.message : `only ${written} of ${line.length} bytes were written`;
    throw new Error(`cannot append to ${this.path}: ${why}; free some space and resume the run.`, { cause: failure });
  }

  /** Closes the file; further writes throw. */
  close(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
