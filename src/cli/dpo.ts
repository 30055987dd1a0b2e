import { DPOTrainer } from '../train/dpo.js';
import { tokenizePreferenceData } from '../train/dpoData.js';
import { CliError, numFlag, parseFlags } from './args.js';
import {
  maxLengthOf,
  POST_TRAIN_FLAGS,
  POST_TRAIN_USAGE_FLAGS,
  postTrainOptions,
  loraFromFlags,
  RecordLog,
  saveTrained,
  startPostTraining,
  stepLine,
  warnTruncated,
} from './postTrainArgs.js';

export const DPO_USAGE = `usage: tinygpt dpo --init-from DIR --data FILE.jsonl --beta 0.1 --out DIR
  Direct Preference Optimization against the starting model (its log-probs are computed once and
  cached). Each line is {"prompt": "..." or [messages], "chosen": "...", "rejected": "..."}.
  --rpo-alpha A adds A × the chosen answers' NLL (TRL's rpo_alpha; default 0).
  Logs TRL's rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins, logps/chosen, logps/rejected.
${POST_TRAIN_USAGE_FLAGS}`;

const FLAGS = { ...POST_TRAIN_FLAGS, beta: { type: 'string' }, 'rpo-alpha': { type: 'string' } } as const;

/** `tinygpt dpo`: aligns a trained model to preference pairs. */
export async function runDpo(argv: string[]): Promise<void> {
  const v = parseFlags(argv, FLAGS, DPO_USAGE);
  if (v.help) {
    console.log(DPO_USAGE);
    return;
  }
  const beta = numFlag(v, 'beta') ?? 0.1;
  if (!(beta > 0)) throw new CliError(`--beta must be a number > 0 (TRL's default is 0.1), got ${beta}.`);
  const s = await startPostTraining(v, DPO_USAGE);
  const { model, tokenizer } = s;
  try {
    const maxLength = maxLengthOf(v, model);
    const weights = loraFromFlags(v, model);
    const train = tokenizePreferenceData(s.dataText, tokenizer, { maxLength, file: s.dataFile });
    warnTruncated('sequences', train.truncated, train.dropped, maxLength);
    const evalSet = s.evalText === undefined ? undefined : tokenizePreferenceData(s.evalText, tokenizer, { maxLength, file: s.evalFile });
    if (evalSet) warnTruncated('eval sequences', evalSet.truncated, evalSet.dropped, maxLength);
    const rpoAlpha = numFlag(v, 'rpo-alpha') ?? 0;
    if (!(rpoAlpha >= 0)) throw new CliError(`--rpo-alpha must be a number >= 0, got ${rpoAlpha}.`);
    const options = { ...postTrainOptions(v, train.pairs.length), beta, rpoAlpha };
    const trainer = new DPOTrainer(model, train.pairs, options, { evalPairs: evalSet?.pairs, weights });
    console.error(`tinygpt dpo: ${train.pairs.length} pairs from ${s.dataFile}, β ${beta}, backend ${s.backend}, ${trainer.options.maxIters} steps, out ${s.outDir}`);
    const log = new RecordLog(s.outDir);
    try {
      for await (const rec of trainer.run()) {
        log.write(rec);
        if (rec.kind === 'step') {
          console.error(stepLine(rec, trainer.options.maxIters));
        } else {
          const f = (x: number): string => x.toFixed(4);
          console.error(
            `eval at step ${rec.step}: loss ${f(rec.loss)}, rewards/chosen ${f(rec['rewards/chosen'])}, rewards/rejected ${f(rec['rewards/rejected'])}, ` +
              `rewards/accuracies ${f(rec['rewards/accuracies'])}, rewards/margins ${f(rec['rewards/margins'])}, ` +
              `logps/chosen ${f(rec['logps/chosen'])}, logps/rejected ${f(rec['logps/rejected'])}`,
          );
        }
      }
    } finally {
      log.close();
      trainer.dispose();
    }
    const dir = await saveTrained(s, weights !== undefined, { kind: 'dpo', beta, options: trainer.options, data: s.dataFile });
    console.error(`done: checkpoint ${dir}`);
  } finally {
    model.dispose();
  }
}
