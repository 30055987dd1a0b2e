/**
 * Node only: turns a metrics.jsonl file into an SVG file (the browser-safe drawing is in
 * lossPlot.ts; this adds the file reading and writing).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { lossPlotSvg, type LossPlotOptions } from './lossPlot.js';
import { parseMetricsLog } from './metricsLog.js';

/**
 * Reads `logFile` (metrics.jsonl as training writes it) and writes its loss and learning-rate
 * curves to `outFile` as SVG. Errors name the file and what to pass instead. Resolves to the
 * warnings about torn lines that were skipped (empty when the log is clean).
 */
export async function writeLossPlot(logFile: string, outFile: string, options: LossPlotOptions = {}): Promise<readonly string[]> {
  if (typeof logFile !== 'string' || logFile === '' || !existsSync(logFile)) {
    throw new Error(`${String(logFile)} does not exist: pass the metrics.jsonl that training writes in its output folder.`);
  }
  if (statSync(logFile).isDirectory()) {
    throw new Error(`${logFile} is a folder where the log file is expected: pass ${join(logFile, 'metrics.jsonl')}.`);
  }
  const log = parseMetricsLog(await readFile(logFile, 'utf8'), logFile);
  if (log.steps.length + log.evals.length === 0) {
    const torn = log.skipped ? ` (${log.skipped.length} line(s) were not valid JSON)` : '';
    throw new Error(`${logFile} has no step or eval records${torn}: train for at least one step, then plot.`);
  }
  await writeFileAtomic(outFile, lossPlotSvg(log, options));
  return log.skipped ?? [];
}
