import * as path from 'node:path';
import { writeLossPlot } from '../viz/writeLossPlot.js';
import { CliError, parseFlags, strFlag } from './args.js';

export const PLOT_USAGE = `usage: tinygpt plot --log FILE.jsonl [--out FILE.svg] [--title TEXT]
  Draws train/val loss and the learning rate against the step, from the metrics.jsonl that
  tinygpt train writes in its --out folder. --out defaults to loss.svg beside the log.`;

const FLAGS = {
  log: { type: 'string' },
  out: { type: 'string' },
  title: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `tinygpt plot`: metrics.jsonl → loss.svg. */
export async function runPlot(argv: string[]): Promise<void> {
  const v = parseFlags(argv, FLAGS, PLOT_USAGE);
  if (v.help) {
    console.log(PLOT_USAGE);
    return;
  }
  const log = strFlag(v, 'log');
  if (!log) throw new CliError(`--log FILE.jsonl is required.\n${PLOT_USAGE}`);
  const out = strFlag(v, 'out') ?? path.join(path.dirname(log), 'loss.svg');
  const skipped = await writeLossPlot(log, out, { title: strFlag(v, 'title') });
  for (const w of skipped) console.error(`tinygpt plot: warning: ${w}`);
  console.log(`wrote ${out}`);
}
