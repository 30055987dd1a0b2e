import { SFTTrainer } from '../train/sft.js';
import { tokenizeSFTData } from '../train/sftData.js';
import { parseFlags } from './args.js';
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

export const SFT_USAGE = `usage: tinygpt sft --init-from DIR --data FILE.jsonl --out DIR
  Supervised fine-tuning: the loss counts only assistant / completion tokens. Each line is
  {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}]} (rendered with the chat
  template) or {"prompt": "...", "completion": "..."}.
${POST_TRAIN_USAGE_FLAGS}`;

const FLAGS = { ...POST_TRAIN_FLAGS } as const;

/** `tinygpt sft`: fine-tunes a trained model on instruction → response examples. */
export async function runSft(argv: string[]): Promise<void> {
  const v = parseFlags(argv, FLAGS, SFT_USAGE);
  if (v.help) {
    console.log(SFT_USAGE);
    return;
  }
  const s = await startPostTraining(v, SFT_USAGE);
  const { model, tokenizer } = s;
  try {
    const maxLength = maxLengthOf(v, model);
    const weights = loraFromFlags(v, model);
    const train = tokenizeSFTData(s.dataText, tokenizer, { maxLength, file: s.dataFile });
    warnTruncated('examples', train.truncated, train.dropped, maxLength);
    const evalSet = s.evalText === undefined ? undefined : tokenizeSFTData(s.evalText, tokenizer, { maxLength, file: s.evalFile });
    if (evalSet) warnTruncated('eval examples', evalSet.truncated, evalSet.dropped, maxLength);
    const options = postTrainOptions(v, train.examples.length);
    const trainer = new SFTTrainer(model, train.examples, options, { evalExamples: evalSet?.examples, weights });
    console.error(
      `tinygpt sft: ${train.examples.length} examples from ${s.dataFile}, backend ${s.backend}, ${trainer.options.maxIters} steps, out ${s.outDir}`,
    );
    const log = new RecordLog(s.outDir);
    try {
      for await (const rec of trainer.run()) {
        log.write(rec);
        if (rec.kind === 'step') console.error(stepLine(rec, trainer.options.maxIters));
        else console.error(`eval at step ${rec.step}: loss ${rec.evalLoss.toFixed(4)} over ${rec.evalTokens} completion tokens`);
      }
    } finally {
      log.close();
      trainer.dispose();
    }
    const dir = await saveTrained(s, weights !== undefined, { kind: 'sft', options: trainer.options, data: s.dataFile });
    console.error(`done: checkpoint ${dir}`);
  } finally {
    model.dispose();
  }
}
