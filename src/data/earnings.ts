import type { ChatMessage } from '../tokenizer/chat.js';
import { createRng, type Rng } from '../util/rng.js';

/**
 * A small synthetic instruction/preference dataset in the spirit of the lecture's homework:
 * earnings-call-like sentences built from templates, each labelled positive / negative /
 * neutral with a sentiment score, and the answer format
 *   LABEL=<positive|negative|neutral>
 *   SCORE=<s>          (one decimal in [−1, 1], e.g. SCORE=0.7, SCORE=-0.9, SCORE=0.0)
 * Everything here is generated from the word lists below with a seeded Rng.
 */

/** The three sentiment classes. */
export type SentimentLabel = 'positive' | 'negative' | 'neutral';

/** One labelled sentence. */
export interface EarningsItem {
  readonly sentence: string;
  readonly label: SentimentLabel;
  /** Sentiment strength: ±0.5 (mild), ±0.7, ±0.9 (strong); 0.0 for neutral. */
  readonly score: number;
}

/** The exact answer format: two lines, nothing before or after. */
export const ANSWER_PATTERN = /^LABEL=(positive|negative|neutral)\nSCORE=(-?[01]\.\d)$/;

/** The user instruction that precedes each sentence. */
export const INSTRUCTION = 'Sentiment?';

const COMPANIES = ['Acme', 'Borealis', 'Cobalt', 'Dynamo', 'Evergreen', 'Fulcrum', 'Granite', 'Helix', 'Ionic', 'Juniper'];
const METRICS = ['revenue', 'operating margin', 'free cash flow', 'net income', 'gross margin', 'bookings', 'earnings per share', 'cloud sales', 'backlog', 'subscriber count'];
const PERIODS = ['this quarter', 'in the third quarter', 'year over year', 'versus last year', 'in the first half', 'sequentially'];
const UP = ['rose', 'grew', 'increased', 'expanded', 'climbed'];
const DOWN = ['fell', 'declined', 'dropped', 'contracted', 'slipped'];
const FLAT = ['was flat', 'was unchanged', 'held steady', 'was in line with plan', 'was stable'];
/** Adverb → strength: a mild or strong move changes the score. */
const STRENGTH: ReadonlyArray<readonly [string, number]> = [
  ['slightly', 0.5],
  ['modestly', 0.5],
  ['', 0.7],
  ['sharply', 0.9],
  ['strongly', 0.9],
];
const UP_TAILS = ['and we are raising our guidance', 'ahead of expectations', 'driven by strong demand', 'a record for the company'];
const DOWN_TAILS = ['and we are lowering our outlook', 'below expectations', 'on weaker demand', 'as costs kept rising'];
const FLAT_TAILS = ['and we reaffirm our guidance', 'as we expected', 'with no change to the outlook', 'in a quiet quarter'];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.nextInt(xs.length)];
}

/** One random labelled sentence. */
export function earningsItem(rng: Rng): EarningsItem {
  const label: SentimentLabel = pick(rng, ['positive', 'negative', 'neutral'] as const);
  const who = pick(rng, COMPANIES);
  const metric = pick(rng, METRICS);
  const period = pick(rng, PERIODS);
  if (label === 'neutral') {
    return { sentence: `${who}: ${metric} ${pick(rng, FLAT)} ${period}, ${pick(rng, FLAT_TAILS)}.`, label, score: 0 };
  }
  const [adverb, strength] = pick(rng, STRENGTH);
  const verb = pick(rng, label === 'positive' ? UP : DOWN);
  const pct = 2 + rng.nextInt(28);
  const tail = pick(rng, label === 'positive' ? UP_TAILS : DOWN_TAILS);
  const moved = adverb ? `${adverb} ${verb}` : verb;
  return { sentence: `${who}: ${metric} ${moved} ${pct}% ${period}, ${tail}.`, label, score: label === 'positive' ? strength : -strength };
}

/** The answer in the exact format. */
export function formatAnswer(label: SentimentLabel, score: number): string {
  return `LABEL=${label}\nSCORE=${score.toFixed(1)}`;
}

/** The chat prompt of an item: one user turn, instruction then sentence. */
export function earningsPrompt(item: EarningsItem): ChatMessage[] {
  return [{ role: 'user', content: `${INSTRUCTION}\n${item.sentence}` }];
}

/** Parses a generated answer: its label and score when it is exactly in format, else null. */
export function parseAnswer(text: string): { label: SentimentLabel; score: number } | null {
  const m = ANSWER_PATTERN.exec(text);
  if (!m) return null;
  const score = Number(m[2]);
  return score >= -1 && score <= 1 ? { label: m[1] as SentimentLabel, score } : null;
}

const OTHER: Record<SentimentLabel, readonly SentimentLabel[]> = {
  positive: ['negative', 'neutral'],
  negative: ['positive', 'neutral'],
  neutral: ['positive', 'negative'],
};

/**
 * A rejected answer, a near miss so that preferring the chosen one takes knowing the task, in
 * thirds: exact format with the wrong label (score kept, so only the label word differs); exact
 * format, right label, wrong strength (SCORE=0.5 for a sharp rise); right answer off-format.
 */
export function rejectedAnswer(item: EarningsItem, rng: Rng): string {
  const u = rng.next();
  if (u < 1 / 3) return `LABEL=${pick(rng, OTHER[item.label])}\nSCORE=${item.score.toFixed(1)}`;
  if (u < 2 / 3) {
    const sign = item.label === 'negative' ? -1 : 1;
    const others = item.label === 'neutral' ? [0.5, -0.5] : [0.5, 0.7, 0.9].filter((x) => x !== Math.abs(item.score)).map((x) => sign * x);
    return formatAnswer(item.label, pick(rng, others));
  }
  return offFormatAnswer(item, rng);
}

/** The right label and score, written off-format in one of a few small ways. */
export function offFormatAnswer(item: EarningsItem, rng: Rng): string {
  const score = item.score.toFixed(1);
  const cap = item.label[0].toUpperCase() + item.label.slice(1);
  return pick(rng, [
    `label=${item.label}\nscore=${score}`,
    `LABEL=${item.label} SCORE=${score}`,
    `LABEL=${cap}\nSCORE=${score}`,
    `LABEL=${item.label}\nSCORE=${score}0`,
    `LABEL: ${item.label}\nSCORE: ${score}`,
    `LABEL=${item.label}`,
  ]);
}

/** One SFT line: {"messages": [user, assistant]}. */
export interface SFTLine {
  readonly messages: ChatMessage[];
}

/** One DPO line: {"prompt": messages, "chosen", "rejected"}. */
export interface DPOLine {
  readonly prompt: ChatMessage[];
  readonly chosen: string;
  readonly rejected: string;
}

/** The generated splits. */
export interface EarningsData {
  readonly sftTrain: SFTLine[];
  readonly sftTest: SFTLine[];
  readonly dpoTrain: DPOLine[];
  readonly dpoTest: DPOLine[];
  /** Unlabelled sentences for pre-training (distinct draws from the same templates). */
  readonly corpus: string[];
}

/** Sizes of {@link generateEarnings}' splits. */
export interface EarningsSizes {
  readonly sftTrain?: number;
  readonly sftTest?: number;
  readonly dpoTrain?: number;
  readonly dpoTest?: number;
  readonly corpus?: number;
  /**
   * Share of SFT training answers written off-format (right label, e.g. "LABEL=positive SCORE=0.7"),
   * like imperfect human demonstrations; preference data then teaches the exact format. Default 0.1.
   * Held-out SFT answers are always exact.
   */
  readonly sftFormatNoise?: number;
}

/**
 * Generates every split from one seed. Held-out sentences never occur in a training split
 * (duplicates are redrawn), so test figures measure generalisation to new sentences.
 */
export function generateEarnings(seed = 1337, sizes: EarningsSizes = {}): EarningsData {
  const rng = createRng(`${seed}:earnings`);
  const seen = new Set<string>();
  const fresh = (): EarningsItem => {
    for (let tries = 0; tries < 1000; tries++) {
      const it = earningsItem(rng);
      if (!seen.has(it.sentence)) {
        seen.add(it.sentence);
        return it;
      }
    }
    throw new Error('generateEarnings: ran out of distinct sentences; ask for fewer examples.');
  };
  const sft = (n: number, noise: number): SFTLine[] =>
    Array.from({ length: n }, () => {
      const it = fresh();
      const content = rng.next() < noise ? offFormatAnswer(it, rng) : formatAnswer(it.label, it.score);
      return { messages: [...earningsPrompt(it), { role: 'assistant', content }] };
    });
  const dpo = (n: number): DPOLine[] =>
    Array.from({ length: n }, () => {
      const it = fresh();
      return { prompt: earningsPrompt(it), chosen: formatAnswer(it.label, it.score), rejected: rejectedAnswer(it, rng) };
    });
  // Test splits first, so their sentences are reserved before any training split draws.
  const sftTest = sft(sizes.sftTest ?? 100, 0);
  const dpoTest = dpo(sizes.dpoTest ?? 100);
  const sftTrain = sft(sizes.sftTrain ?? 600, sizes.sftFormatNoise ?? 0.1);
  const dpoTrain = dpo(sizes.dpoTrain ?? 400);
  const corpus = Array.from({ length: sizes.corpus ?? 3000 }, () => earningsItem(rng).sentence).filter((s) => !isHeldOut(s, sftTest, dpoTest));
  return { sftTrain, sftTest, dpoTrain, dpoTest, corpus };
}

function isHeldOut(s: string, sftTest: readonly SFTLine[], dpoTest: readonly DPOLine[]): boolean {
  return sftTest.some((l) => l.messages[0].content.endsWith(s)) || dpoTest.some((l) => l.prompt[0].content.endsWith(s));
}
