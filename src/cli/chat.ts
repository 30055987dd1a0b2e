import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { setBackend, type BackendName } from '../backend.js';
import { ChatSession } from '../pretrained/chatSession.js';
import { pipeline } from '../pretrained/pipeline.js';
import { CliError, intFlag, parseFlags, strFlag } from './args.js';
import { dtypeFlag, DTYPE_HELP, GENERATION_FLAGS, samplingFlags } from './generate.js';

export const CHAT_USAGE = `usage: tinygpt chat --model DIR [--system TEXT]
  --max-new-tokens 256 --do-sample --temperature 1 --top-k K --top-p 1 --seed 0 --backend auto|wasm|cpu|tensorflow
  --dtype fp32|auto
  A streaming chat REPL on a model folder with a chat template: type a message, Enter sends it.
  The conversation stays in the KV cache (each turn feeds only its own tokens). /reset starts over,
  /exit or end of input quits.
  ${DTYPE_HELP}`;

const FLAGS = { ...GENERATION_FLAGS, system: { type: 'string' } } as const;

/** Where the REPL reads and writes (tests pass streams; the CLI uses stdin/stdout). */
export interface ChatIO {
  readonly input: Readable;
  readonly output: Writable;
}

/** `tinygpt chat`: one reply per input line, streamed; the prompt marker only on a terminal. */
export async function runChat(argv: string[], io: ChatIO = { input: process.stdin, output: process.stdout }): Promise<void> {
  const v = parseFlags(argv, FLAGS, CHAT_USAGE);
  if (v.help) {
    console.log(CHAT_USAGE);
    return;
  }
  const dir = strFlag(v, 'model');
  if (!dir) throw new CliError(`--model DIR is required.\n${CHAT_USAGE}`);
  const sampling = samplingFlags(v);
  const maxNewTokens = intFlag(v, 'max-new-tokens') ?? 256;
  const dtype = dtypeFlag(v);
  await setBackend((strFlag(v, 'backend') ?? 'auto') as BackendName);
  const pipe = await pipeline('text-generation', dir, { dtype });
  if (pipe.tokenizer.chatTemplate === undefined) {
    pipe.dispose();
    throw new CliError(`${dir} has no chat template (tokenizer_config.json "chat_template"); use tinygpt generate instead.`);
  }
  const newSession = () =>
    new ChatSession(pipe.model, pipe.tokenizer, pipe.stopTokenIds, {
      seed: intFlag(v, 'seed') ?? 0,
      system: strFlag(v, 'system'),
    });
  let session = newSession();
  const tty = (io.input as { isTTY?: boolean }).isTTY === true;
  const out = (s: string) => void io.output.write(s);
  const lines = createInterface({ input: io.input, terminal: false });
  try {
    if (tty) out('> ');
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === '/exit') break;
      if (line === '/reset') {
        session.dispose();
        session = newSession();
        out('(conversation cleared)\n');
      } else if (line.length > 0) {
        for await (const piece of session.send(line, { maxNewTokens, ...sampling })) out(piece);
        out('\n');
      }
      if (tty) out('> ');
    }
  } finally {
    lines.close();
    session.dispose();
    pipe.dispose();
  }
}
