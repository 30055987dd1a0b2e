/**
 * Stop strings applied to streamed text, cut at the exact character (not at a token boundary).
 * Text that could still be the start of a stop string is held back and released as soon as it
 * cannot be; each push scans only the held text plus the new piece, so a whole stream costs
 * time linear in its length.
 */
import { findStopString } from './stopping.js';

/** What {@link TextStopper.push} returns. */
export interface TextStopStep {
  /** Text now known to precede any stop string; print it. */
  readonly text: string;
  /** True once a stop string appeared: the stream should end (the stop itself is dropped). */
  readonly stop: boolean;
}

/** Length of the longest suffix of `text` that is a proper prefix of `stop`. */
function heldChars(text: string, stop: string): number {
  for (let k = Math.min(stop.length - 1, text.length); k > 0; k--) {
    if (text.endsWith(stop.slice(0, k))) return k;
  }
  return 0;
}

/** Checks stop strings: a non-empty list of non-empty strings (an empty one would match at once). */
export function checkStopStrings(stops: readonly unknown[], where: string): string[] {
  return stops.map((s) => {
    if (typeof s !== 'string') throw new Error(`${where}: stop strings must be strings, got ${typeof s}.`);
    if (s.length === 0) throw new Error(`${where}: an empty stop string would match immediately; remove it.`);
    return s;
  });
}

/** Feeds text pieces through stop strings; see the module comment. */
export class TextStopper {
  private readonly stops: readonly string[];
  private held = '';
  private done = false;

  constructor(stops: readonly string[]) {
    this.stops = checkStopStrings(stops, 'stop');
  }

  /** Adds one piece of text. */
  push(piece: string): TextStopStep {
    if (this.done) return { text: '', stop: true };
    const text = this.held + piece;
    if (this.stops.length === 0) return { text, stop: false };
    const at = findStopString(text, this.stops);
    if (at >= 0) {
      this.done = true;
      this.held = '';
      return { text: text.slice(0, at), stop: true };
    }
    let keep = 0;
    for (const s of this.stops) keep = Math.max(keep, heldChars(text, s));
    this.held = text.slice(text.length - keep);
    return { text: text.slice(0, text.length - keep), stop: false };
  }

  /** The held text, at the end of a stream that did not stop. */
  flush(): string {
    const out = this.held;
    this.held = '';
    this.done = true;
    return out;
  }
}
/** Reads the escapes \n, \t and \\ in a stop string typed on the command line or in the page. */
export function unescapeStop(s: string): string {
  return s.replace(/\\(n|t|\\)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
}

