/**
 * The lecture's homework: sentiment analysis of an earnings-call paragraph with an instruction-
 * tuned model, through the text-generation pipeline (greedy, only the reply returned). The prompt
 * is a system rubric, one demonstration paragraph with its answer, then the paragraph to judge;
 * the reply must be four lines LABEL=…, SCORE=…, RATIONALE=…, EVIDENCE=…, which are parsed and
 * checked. A malformed reply is reported line by line (exit code 2).
 *   npx tsx examples/homework.ts --model path/to/gemma-3-1b-it [--paragraph TEXT] [--max-new-tokens 128]
 *   npm run homework -- --model path/to/gemma-3-1b-it
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setBackend, type BackendName, type ChatMessage } from '../src/index.js';
import { pipeline } from '../src/node.js';

/** The rubric the model is given as its system message. */
export const RUBRIC = [
  "You are a financial analyst. Read one paragraph from a company's earnings call and judge the sentiment",
  "it expresses about the company's business. Answer with exactly these four lines and nothing else:",
  'LABEL=positive|negative|neutral',
  'SCORE=a number from -1 (very negative) to 1 (very positive)',
  'RATIONALE=one sentence explaining the judgement',
  'EVIDENCE=the short phrase from the paragraph that best supports it',
].join('\n');

/** The demonstration paragraph shown with its answer. */
export const DEMO_PARAGRAPH =
  'Revenue for the quarter came in at 4.2 billion dollars, up 18 percent from a year ago and ahead of the range ' +
  'we gave in July. Demand for our cloud products stayed strong in every region, and we are raising our full-year outlook.';

/** The demonstration answer, in the required format. */
export const DEMO_ANSWER = [
  'LABEL=positive',
  'SCORE=0.8',
  'RATIONALE=Revenue beat guidance with strong growth, and the company raised its outlook.',
  'EVIDENCE=we are raising our full-year outlook',
].join('\n');

/** The paragraph to judge by default. */
export const TARGET_PARAGRAPH =
  'Sales in our consumer segment fell 9 percent as retailers worked through excess inventory, and gross margin ' +
  'narrowed by two points on higher freight costs. We have paused hiring and expect the second half to remain ' +
  'difficult, although our enterprise backlog is stable.';

/** The conversation sent to the model: rubric, demonstration, then the paragraph to judge. */
export function homeworkMessages(paragraph: string = TARGET_PARAGRAPH): ChatMessage[] {
  return [
    { role: 'system', content: RUBRIC },
    { role: 'user', content: `Paragraph: ${DEMO_PARAGRAPH}` },
    { role: 'assistant', content: DEMO_ANSWER },
    { role: 'user', content: `Paragraph: ${paragraph}` },
  ];
}

/** A well-formed answer. */
export interface SentimentAnswer {
  readonly label: 'positive' | 'negative' | 'neutral';
  /** In [-1, 1]. */
  readonly score: number;
  readonly rationale: string;
  readonly evidence: string;
}

/** The parse of a reply: the answer, or every problem found; lines outside the format are listed either way. */
export type ParsedAnswer =
  | { readonly ok: true; readonly answer: SentimentAnswer; readonly extraLines: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[]; readonly extraLines: readonly string[] };

const KEYS = ['LABEL', 'SCORE', 'RATIONALE', 'EVIDENCE'] as const;

/** Parses the four KEY=value lines (spaces around "=" and blank lines are tolerated, nothing else). */
export function parseSentimentAnswer(reply: string): ParsedAnswer {
  const found = new Map<string, string>();
  const problems: string[] = [];
  const extraLines: string[] = [];
  for (const raw of reply.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length === 0) continue;
    const m = /^([A-Z]+)\s*=\s*(.*)$/.exec(line);
    if (m === null || !(KEYS as readonly string[]).includes(m[1])) {
      extraLines.push(line);
      continue;
    }
    if (found.has(m[1])) problems.push(`${m[1]} appears more than once`);
    else found.set(m[1], m[2].trim());
  }
  for (const k of KEYS) {
    if (!found.has(k)) problems.push(`the ${k}= line is missing`);
    else if (found.get(k) === '') problems.push(`${k}= is empty`);
  }
  const label = found.get('LABEL')?.toLowerCase();
  if (label && !['positive', 'negative', 'neutral'].includes(label)) {
    problems.push(`LABEL must be positive, negative or neutral, got "${found.get('LABEL')}"`);
  }
  const scoreText = found.get('SCORE');
  const score = Number(scoreText);
  if (scoreText && (!/^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(scoreText) || score < -1 || score > 1)) {
    problems.push(`SCORE must be a number from -1 to 1, got "${scoreText}"`);
  } else if (scoreText && ((label === 'positive' && score < 0) || (label === 'negative' && score > 0))) {
    problems.push(`SCORE ${scoreText} contradicts LABEL=${label}`);
  }
  if (problems.length > 0) return { ok: false, problems, extraLines };
  const answer: SentimentAnswer = {
    label: label as SentimentAnswer['label'],
    score,
    rationale: found.get('RATIONALE') as string,
    evidence: found.get('EVIDENCE') as string,
  };
  return { ok: true, answer, extraLines };
}

/** Runs the homework; returns the exit code (0 answered, 1 bad usage, 2 malformed answer). */
export async function runHomework(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      paragraph: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      backend: { type: 'string' },
      dtype: { type: 'string' },
    },
  });
  if (!values.model) {
    console.error(
      'usage: npx tsx examples/homework.ts --model DIR [--paragraph TEXT] [--max-new-tokens 128] [--backend auto|wasm|cpu] [--dtype fp32|auto]',
    );
    return 1;
  }
  const maxNewTokens = Number(values['max-new-tokens'] ?? 128);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    console.error(`homework: --max-new-tokens must be a positive integer, got "${values['max-new-tokens']}".`);
    return 1;
  }
  const dtype = values.dtype ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'auto') {
    console.error(`homework: --dtype must be fp32 or auto, got "${dtype}".`);
    return 1;
  }
  const backend = await setBackend((values.backend ?? 'auto') as BackendName);
  // --dtype auto: bfloat16 weights stay bfloat16 on tinygpt's SIMD decoder (what Gemma 3 1B needs on wasm).
  const pipe = await pipeline('text-generation', values.model, { dtype });
  try {
    const messages = homeworkMessages(values.paragraph);
    const promptTokens = pipe.tokenizer.encode(pipe.renderChat(messages), { addSpecialTokens: false }).length;
    console.log(
      `model ${values.model}: ${pipe.model.numParams().toLocaleString('en-US')} parameters, backend ${backend}; ` +
        `prompt ${promptTokens} tokens; greedy, at most ${maxNewTokens} new tokens`,
    );
    const [out] = await pipe(messages, { maxNewTokens, returnFullText: false, doSample: false });
    const reply = out.generatedText;
    console.log(`--- reply ---\n${reply}\n--- parsed ---`);
    if (reply.trim() === '') console.log(`(the reply is blank: ${JSON.stringify(reply)})`);
    const parsed = parseSentimentAnswer(reply);
    for (const line of parsed.extraLines) console.log(`(ignored line outside the format: ${JSON.stringify(line)})`);
    if (!parsed.ok) {
      console.error(`homework: malformed answer: ${parsed.problems.join('; ')}.`);
      return 2;
    }
    const a = parsed.answer;
    console.log(`LABEL      ${a.label}\nSCORE      ${a.score}\nRATIONALE  ${a.rationale}\nEVIDENCE   ${a.evidence}`);
    return 0;
  } finally {
    pipe.dispose();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runHomework(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`homework: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
