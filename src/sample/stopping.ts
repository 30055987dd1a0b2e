/**
 * Stop conditions for generation, applied token by token while streaming.
 *
 * A stop condition is never emitted: like Hugging Face, which cuts the stop string out of the
 * returned text, the tokens that complete a stop id sequence or a stop string are dropped.
 * Because a multi-token stop is only recognised once its last token arrives, tokens that could
 * still be the start of a stop are held back and released as soon as they cannot be.
 */

/** One stop condition: a token id, a sequence of token ids, or a string (needs a decoder). */
export type StopCondition = number | readonly number[] | string;

/**
 * What `stop` accepts: one condition or an array of them. An array of numbers is a list of
 * single stop ids (any of them stops); wrap a sequence in another array: `[[13, 13]]`.
 */
export type StopOption = number | string | readonly StopCondition[];

/** Already-released tokens decoded before the held ones, so a character split across them decodes whole. */
const STRING_CONTEXT = 4;

/** The result of adding one generated token to a {@link StopCriteria}. */
export interface StopStep {
  /** Tokens that are now known not to be part of a stop, in order; emit them. */
  readonly emit: readonly number[];
  /** True once a stop condition is complete: generation should end. */
  readonly stop: boolean;
}

/** Earliest index at which any of the strings occurs in text, or −1. */
export function findStopString(text: string, stops: readonly string[]): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** Length of the longest suffix of xs that is a proper prefix of seq. */
function heldPrefix<T>(xs: ArrayLike<T>, seq: ArrayLike<T>): number {
  for (let k = Math.min(seq.length - 1, xs.length); k > 0; k--) {
    let ok = true;
    for (let j = 0; j < k && ok; j++) ok = xs[xs.length - k + j] === seq[j];
    if (ok) return k;
  }
  return 0;
}

function endsWith(xs: readonly number[], seq: readonly number[]): boolean {
  if (seq.length > xs.length) return false;
  for (let j = 0; j < seq.length; j++) if (xs[xs.length - seq.length + j] !== seq[j]) return false;
  return true;
}

function checkId(id: unknown, vocabSize: number | undefined): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || (vocabSize !== undefined && id >= vocabSize)) {
    const range = vocabSize !== undefined ? `[0, ${vocabSize})` : '>= 0';
    throw new Error(`stop: token id ${String(id)} is invalid; stop ids must be integers in ${range}.`);
  }
  return id;
}

/**
 * Tracks the generated tokens against the stop conditions. `push` each new token; at the end
 * of generation for another reason (token budget, abort) call `flush` to release what was held.
 */
export class StopCriteria {
  private readonly sequences: number[][] = [];
  private readonly strings: string[] = [];
  private readonly generated: number[] = [];
  private emitted = 0;
  /** First token of the decoded window for stop strings. */
  private base = 0;
  private done = false;

  /**
   * @param stop the stop conditions (see {@link StopOption}); undefined for none.
   * @param decode turns generated ids into text; required when any condition is a string.
   * @param vocabSize when given, stop ids must be below it.
   */
  constructor(
    stop: StopOption | undefined,
    private readonly decode?: (ids: number[]) => string,
    vocabSize?: number,
  ) {
    if (stop === undefined) return;
    const list: readonly unknown[] = Array.isArray(stop) ? stop : [stop];
    for (const c of list) {
      if (typeof c === 'string') {
        if (c.length === 0) throw new Error('stop: an empty string would match immediately; remove it.');
        this.strings.push(c);
      } else if (Array.isArray(c)) {
        if (c.length === 0) throw new Error('stop: an empty token sequence would match immediately; remove it.');
        this.sequences.push(c.map((id: unknown) => checkId(id, vocabSize)));
      } else {
        this.sequences.push([checkId(c, vocabSize)]);
      }
    }
    if (this.strings.length > 0 && typeof decode !== 'function') {
      throw new Error(
        `stop strings (${JSON.stringify(this.strings)}) need a decoder: pass decode: (ids) => tokenizer.decode(ids), ` +
          'or give stop token ids instead.',
      );
    }
  }

  /** Whether any stop condition was given. */
  get active(): boolean {
    return this.sequences.length > 0 || this.strings.length > 0;
  }

  /** Adds one generated token; returns the tokens safe to emit and whether to stop. */
  push(id: number): StopStep {
    if (this.done) throw new Error('StopCriteria.push called after a stop: start a new StopCriteria.');
    const g = this.generated;
    g.push(id);
    // Each condition gives a limit: how many generated tokens may be emitted now.
    let matchLimit = Infinity;
    let safeLimit = g.length;
    for (const seq of this.sequences) {
      if (endsWith(g, seq)) matchLimit = Math.min(matchLimit, g.length - seq.length);
      else safeLimit = Math.min(safeLimit, g.length - heldPrefix(g, seq));
    }
    if (this.strings.length > 0) {
      // Only the held tokens (plus a little context) can hold a stop's start: earlier text was
      // released only once no stop could begin in it. Decoding just that window keeps push O(1)
      // in the sequence length.
      this.base = Math.max(this.base, this.emitted - STRING_CONTEXT);
      const text = this.windowText(g.length);
      const at = findStopString(text, this.strings);
      if (at >= 0) {
        matchLimit = Math.min(matchLimit, this.tokensWithin(at));
      } else {
        let held = 0;
        for (const s of this.strings) held = Math.max(held, heldPrefix(text, s));
        if (held > 0) safeLimit = Math.min(safeLimit, this.tokensWithin(text.length - held));
      }
    }
    if (matchLimit !== Infinity) {
      this.done = true;
      return { emit: this.release(matchLimit), stop: true };
    }
    return { emit: this.release(safeLimit), stop: false };
  }

  /** Releases every held token: generation ended without completing a stop. */
  flush(): number[] {
    this.done = true;
    return this.release(this.generated.length);
  }

  /**
   * Largest n ≥ emitted such that decode(generated[base..n)) has at most `chars` characters, i.e.
   * the tokens lying wholly before a character position. A token that straddles a stop string
   * is dropped with it, since a token cannot be split.
   */
  private tokensWithin(chars: number): number {
    for (let n = this.generated.length; n > this.emitted; n--) {
      if (this.windowText(n).length <= chars) return n;
    }
    return this.emitted;
  }

  /** Text of generated[base..n): character positions in push are relative to the window. */
  private windowText(n: number): string {
    const decode = this.decode as (ids: number[]) => string;
    return decode(this.generated.slice(this.base, n));
  }

  private release(upTo: number): number[] {
    const n = Math.max(this.emitted, upTo);
    const out = this.generated.slice(this.emitted, n);
    this.emitted = n;
    return out;
  }
}
