/**
 * Node only: turns a metrics.jsonl file into an SVG file (the browser-safe drawing is in
 * lossPlot.ts; this adds the file reading and writing).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { lossPlotSvg, type LossPlotOptions } from './lossPlot.js';
import { parseMetricsLog } from './metricsLog.js';

/**
 * Reads `logFile` (metrics.jsonl as training writes it) and writes its loss and learning-rate
 * curves to `outFile` as SVG. Errors name the file and what to pass instead.
 */
export async function writeLossPlot(logFile: string, outFile: string, options: LossPlotOptions = {}): Promise<void> {
  if (typeof logFile !== 'string' || logFile === '' || !existsSync(logFile)) {
    throw new Error(`${String(logFile)} does not exist: pass the metrics.jsonl that training writes in its output folder.`);
  }
  const log = parseMetricsLog(await readFile(logFile, 'utf8'), logFile);
  if (log.steps.length + log.evals.length === 0) {
    throw new Error(`${logFile} has no step or eval records: train for at least one step, then plot.`);
  }
  await writeFileAtomic(outFile, lossPlotSvg(log, options));
}
