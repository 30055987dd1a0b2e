import { CliError } from './args.js';
import { ATTENTION_USAGE, runAttention } from './attention.js';
import { DPO_USAGE, runDpo } from './dpo.js';
import { CHAT_USAGE, runChat } from './chat.js';
import { EVAL_USAGE, runEval } from './eval.js';
import { GENERATE_USAGE, runGenerate } from './generate.js';
import { PLOT_USAGE, runPlot } from './plot.js';
import { runSample, SAMPLE_USAGE } from './sample.js';
import { runSft, SFT_USAGE } from './sft.js';
import { runTrain, TRAIN_USAGE } from './train.js';
import { packageVersion } from './version.js';

const USAGE = `tinygpt: train and sample small GPTs on TensorFlow.js

${TRAIN_USAGE}

${SFT_USAGE}

${DPO_USAGE}

${SAMPLE_USAGE}

${ATTENTION_USAGE}

${PLOT_USAGE}

${EVAL_USAGE}

${GENERATE_USAGE}

${CHAT_USAGE}

tinygpt --version prints the version.`;

/** A command resolves to its exit code (void: 0). */
const COMMANDS: Record<string, (argv: string[]) => Promise<number | void>> = {
  train: runTrain,
  sft: runSft,
  dpo: runDpo,
  sample: runSample,
  attention: runAttention,
  plot: runPlot,
  eval: runEval,
  generate: runGenerate,
  chat: (argv) => runChat(argv),
};

/**
 * A raw Node file-system error (EISDIR, EEXIST, ENOTDIR, ENOSPC, EACCES: "EISDIR: illegal
 * operation on a directory, read") as one line naming the path and the fix; undefined for
 * every other error, whose message is already meant for the user.
 */
function fsMessage(err: Error): string | undefined {
  const { code, path: p } = err as NodeJS.ErrnoException;
  if (typeof code !== 'string' || !err.message.startsWith(`${code}:`)) return undefined;
  const at = p ?? '(unnamed file)';
  switch (code) {
    case 'EISDIR':
      return `${at} is a folder where a file is expected: pass the path of a file.`;
    case 'EEXIST':
      return (err as NodeJS.ErrnoException).syscall === 'mkdir'
        ? `${at} is a file where a folder is expected: move it away or choose another path.`
        : `${at} already exists where a new file is to go: move it away or choose another path.`;
    case 'ENOTDIR':
      return `part of ${at} is a file where a folder is expected: fix the path.`;
    case 'ENOSPC':
      return `the disk is full while writing ${at}: free some space and run again.`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied for ${at}: choose a path you can write to.`;
    case 'ENOENT':
      return `${at} does not exist: check the path.`;
    default:
      return undefined;
  }
}

/** Runs one command; user errors print one clear line and exit 1 (TINYGPT_DEBUG=1 shows the stack). */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(USAGE);
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    console.log(packageVersion());
    return 0;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    console.error(`tinygpt: unknown command "${cmd}"; use one of ${Object.keys(COMMANDS).join(', ')} (tinygpt --help).`);
    return 1;
  }
  try {
    return (await run(rest)) ?? 0;
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    console.error(`tinygpt ${cmd}: ${fsMessage(err) ?? err.message}`);
    if (process.env.TINYGPT_DEBUG && !(err instanceof CliError)) console.error(err.stack);
    return 1;
  }
}

