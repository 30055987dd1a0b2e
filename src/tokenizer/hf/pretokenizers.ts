/**
 * Pre-tokenizers of tokenizer.json: split normalized text into pieces the model encodes one by
 * one. A piece remembers whether it starts the original text, which Metaspace's
 * prepend_scheme "first" needs (only the very first piece gets the "▁" word marker).
 */
import { gpt2ByteToChar } from '../bpe-bytes.js';
import { arr, bad, bool, obj, str, typeOf, unsupported, type JSONObject } from './json.js';
import { patternRegex } from './normalizers.js';
import { escapeRegex, matchRanges } from './regex.js';

/** One piece of text on its way to the model. */
export interface Piece {
  /** The text, normalized. */
  readonly text: string;
  /** True when it starts at offset 0 of the original input. */
  readonly first: boolean;
}

/** A pre-tokenizer: pieces → finer pieces. */
export type PreTokenizer = (pieces: readonly Piece[]) => Piece[];

/** How a Split keeps its matches (Hugging Face's SplitDelimiterBehavior). */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';
const BEHAVIORS: readonly string[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

const KNOWN = ['Sequence', 'Split', 'Metaspace', 'ByteLevel', 'Whitespace', 'WhitespaceSplit', 'Digits', 'Punctuation'];

interface Span {
  start: number;
  end: number;
  match: boolean;
}

/**
 * Cuts text at the given match ranges and keeps the pieces as `behavior` says; with `invert`
 * the matches are the kept text and the gaps the delimiters. Empty pieces are dropped.
 */
export function splitText(text: string, ranges: readonly [number, number][], behavior: SplitBehavior, invert = false): { start: number; text: string }[] {
  const spans: Span[] = [];
  let at = 0;
  for (const [s, e] of ranges) {
    if (s > at) spans.push({ start: at, end: s, match: invert });
    spans.push({ start: s, end: e, match: !invert });
    at = e;
  }
  if (at < text.length) spans.push({ start: at, end: text.length, match: invert });
  let kept: Span[] = [];
  if (behavior === 'Removed') kept = spans.filter((sp) => !sp.match);
  else if (behavior === 'Isolated') kept = spans;
  else if (behavior === 'MergedWithPrevious') {
    let prevMatch = false;
    for (const sp of spans) {
      const last = kept[kept.length - 1];
      if (sp.match && !prevMatch && last !== undefined) last.end = sp.end;
      else kept.push({ ...sp });
      prevMatch = sp.match;
    }
  } else if (behavior === 'MergedWithNext') {
    let nextMatch = false;
    for (let i = spans.length - 1; i >= 0; i--) {
      const sp = spans[i];
      const last = kept[kept.length - 1];
      if (sp.match && !nextMatch && last !== undefined) last.start = sp.start;
      else kept.push({ ...sp });
      nextMatch = sp.match;
    }
    kept.reverse();
  } else {
    let prevMatch: boolean | undefined;
    for (const sp of spans) {
      const last = kept[kept.length - 1];
      if (sp.match === prevMatch && last !== undefined) last.end = sp.end;
      else kept.push({ ...sp });
      prevMatch = sp.match;
    }
  }
  return kept.filter((sp) => sp.end > sp.start).map((sp) => ({ start: sp.start, text: text.slice(sp.start, sp.end) }));
}

/** Applies a splitter to every piece; sub-pieces keep `first` only at offset 0. */
function splitEach(pieces: readonly Piece[], split: (text: string) => { start: number; text: string }[]): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) for (const s of split(p.text)) out.push({ text: s.text, first: p.first && s.start === 0 });
  return out;
}

function behaviorOf(o: JSONObject, where: string, fallback: SplitBehavior): SplitBehavior {
  const b = str(o, 'behavior', where, fallback);
  if (!BEHAVIORS.includes(b)) bad(where, `split "behavior" must be one of ${BEHAVIORS.join(', ')}, got ${JSON.stringify(b)}.`);
  return b as SplitBehavior;
}

/** GPT-2's pre-tokenization regex (contractions, letters, numbers, other, whitespace). */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Bytes → GPT-2's printable alphabet, so a byte-level piece is a vocabulary string. */
export function toByteAlphabet(text: string): string {
  const chars = gpt2ByteToChar();
  let out = '';
  for (const b of new TextEncoder().encode(text)) out += chars[b];
  return out;
}

function metaspace(o: JSONObject, where: string): PreTokenizer {
  const rep = str(o, 'replacement', where, '▁');
  // Older files say add_prefix_space: true/false instead of prepend_scheme.
  const legacy = o.add_prefix_space;
  const scheme = str(o, 'prepend_scheme', where, legacy === false ? 'never' : 'always');
  if (!['always', 'first', 'never'].includes(scheme)) {
    bad(where, `Metaspace "prepend_scheme" must be "always", "first" or "never", got ${JSON.stringify(scheme)}.`);
  }
  const split = bool(o, 'split', where, true);
  return (pieces) => {
    const marked = pieces.map((p) => {
      let text = p.text.replaceAll(' ', rep);
      const prepend = scheme === 'always' || (scheme === 'first' && p.first);
      if (prepend && !text.startsWith(rep)) text = rep + text;
      return { text, first: p.first };
    });
    if (!split) return marked;
    return splitEach(marked, (t) => splitText(t, matchRanges(new RegExp(escapeRegex(rep), 'gu'), t), 'MergedWithNext'));
  };
}

function byteLevel(o: JSONObject, where: string): PreTokenizer {
  const prefix = bool(o, 'add_prefix_space', where, true);
  const useRegex = bool(o, 'use_regex', where, true);
  return (pieces) => {
    const spaced = pieces.map((p) => (prefix && !p.text.startsWith(' ') ? { text: ' ' + p.text, first: p.first } : p));
    const split = useRegex ? splitEach(spaced, (t) => splitText(t, matchRanges(GPT2_SPLIT, t), 'Isolated')) : spaced;
    return split.map((p) => ({ text: toByteAlphabet(p.text), first: p.first }));
  };
}

/** Builds the pre-tokenizer described by a tokenizer.json "pre_tokenizer" entry (null: none). */
export function buildPreTokenizer(json: unknown, where: string): PreTokenizer {
  if (json == null) return (pieces) => [...pieces];
  const o = obj(json, where, 'pre_tokenizer');
  const type = typeOf(o, where, 'pre_tokenizer');
  switch (type) {
    case 'Sequence': {
      const steps = arr(o, 'pretokenizers', where).map((p) => buildPreTokenizer(p, where));
      return (pieces) => steps.reduce<Piece[]>((acc, f) => f(acc), [...pieces]);
    }
    case 'Split': {
      const re = patternRegex(o, where);
      const behavior = behaviorOf(o, where, 'Isolated');
      const invert = bool(o, 'invert', where, false);
      return (pieces) => splitEach(pieces, (t) => splitText(t, matchRanges(re, t), behavior, invert));
    }
    case 'Metaspace':
      return metaspace(o, where);
    case 'ByteLevel':
      return byteLevel(o, where);
    case 'Whitespace': {
      const words = /[\p{L}\p{N}\p{M}\p{Pc}]+|[^\p{L}\p{N}\p{M}\p{Pc}\s]+/gu;
      return (pieces) => splitEach(pieces, (t) => splitText(t, matchRanges(words, t), 'Removed', true));
    }
    case 'WhitespaceSplit':
      return (pieces) => splitEach(pieces, (t) => splitText(t, matchRanges(/\s+/gu, t), 'Removed'));
    case 'Digits': {
      const individual = bool(o, 'individual_digits', where, false);
      return (pieces) => splitEach(pieces, (t) => splitText(t, matchRanges(/\p{N}/gu, t), individual ? 'Isolated' : 'Contiguous'));
    }
    case 'Punctuation': {
      const behavior = behaviorOf(o, where, 'Isolated');
      return (pieces) => splitEach(pieces, (t) => splitText(t, matchRanges(/\p{P}/gu, t), behavior));
    }
    default:
      return unsupported(where, 'pre_tokenizer', type, KNOWN);
  }
}
