/**
 * Added tokens (tokenizer.json "added_tokens"): strings such as "<bos>" or "<start_of_turn>"
 * that are cut out of the text before the model sees it and map straight to their ids. At each
 * position the longest token wins; lstrip/rstrip let a token swallow the whitespace beside it;
 * single_word requires it to stand alone; normalized ones are matched after normalization.
 */
import { bad, bool, int, obj, str } from './json.js';
import { escapeRegex } from './regex.js';

/** One entry of "added_tokens". */
export interface AddedToken {
  /** Its id. */
  readonly id: number;
  /** Its text. */
  readonly content: string;
  /** Only match when not inside a word. */
  readonly singleWord: boolean;
  /** Swallow the whitespace on its left. */
  readonly lstrip: boolean;
  /** Swallow the whitespace on its right. */
  readonly rstrip: boolean;
  /** Match against normalized text (else the raw input). */
  readonly normalized: boolean;
  /** A special token: skipped by decode({ skipSpecialTokens: true }). */
  readonly special: boolean;
}

/** A stretch of text, or an added token found in it. */
export interface Segment {
  /** Offset of the stretch in the text that was split. */
  readonly start: number;
  /** The text of a stretch (undefined for a token). */
  readonly text?: string;
  /** The added token's id (undefined for a stretch). */
  readonly id?: number;
}

/** Parses "added_tokens". */
export function parseAddedTokens(list: readonly unknown[], where: string): AddedToken[] {
  return list.map((t, i) => {
    const o = obj(t, where, `added_tokens[${i}]`);
    const special = bool(o, 'special', where, false);
    const content = str(o, 'content', where);
    if (content.length === 0) bad(where, `added_tokens[${i}] has empty content.`);
    return {
      id: int(o, 'id', where),
      content,
      singleWord: bool(o, 'single_word', where, false),
      lstrip: bool(o, 'lstrip', where, false),
      rstrip: bool(o, 'rstrip', where, false),
      normalized: bool(o, 'normalized', where, !special),
      special,
    };
  });
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;
const SPACE = /\s/u;

/** Finds one group of added tokens in text. */
export class AddedTokenSplitter {
  private readonly re: RegExp | null;
  private readonly byContent: ReadonlyMap<string, AddedToken>;

  constructor(tokens: readonly AddedToken[]) {
    this.byContent = new Map(tokens.map((t) => [t.content, t] as const));
    // Longest first, so the alternation prefers the longest token at a position.
    const sorted = [...this.byContent.keys()].sort((a, b) => b.length - a.length);
    this.re = sorted.length === 0 ? null : new RegExp(sorted.map(escapeRegex).join('|'), 'gu');
  }

  /** Cuts text into stretches and tokens (stretches may be empty and are dropped). */
  split(text: string): Segment[] {
    if (this.re === null) return text.length > 0 ? [{ start: 0, text }] : [];
    const out: Segment[] = [];
    const re = this.re;
    re.lastIndex = 0;
    let done = 0; // text before this is already in out
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const token = this.byContent.get(m[0]) as AddedToken;
      let start = m.index;
      let end = start + m[0].length;
      if (token.singleWord) {
        const before = start > 0 ? text[start - 1] : '';
        const after = end < text.length ? text[end] : '';
        if ((before && WORD_CHAR.test(before)) || (after && WORD_CHAR.test(after))) {
          re.lastIndex = start + 1;
          continue;
        }
      }
      if (token.lstrip) while (start > done && SPACE.test(text[start - 1])) start--;
      if (token.rstrip) while (end < text.length && SPACE.test(text[end])) end++;
      if (start > done) out.push({ start: done, text: text.slice(done, start) });
      out.push({ start, id: token.id });
      done = end;
      re.lastIndex = end;
    }
    if (done < text.length) out.push({ start: done, text: text.slice(done) });
    return out;
  }
}
