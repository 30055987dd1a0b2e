import { asRecord, parseJsonl } from '../data/jsonl.js';
import type { ChatMessage } from '../tokenizer/chat.js';
import type { Tokenizer } from '../tokenizer/load.js';
import { at, hasTarget, parseMessages, renderSegments, tokenizeSegments, truncateExample, type SFTExample, type TokenizedExample } from './sftData.js';

/** One preference: the same prompt with an accepted and a rejected response, tokenized. */
export interface PreferencePair {
  /** Prompt + chosen response; tokenMask marks the response tokens. */
  readonly chosen: TokenizedExample;
  /** Prompt + rejected response; tokenMask marks the response tokens. */
  readonly rejected: TokenizedExample;
}

/** Parsed preference data plus what preparing it had to change. */
export interface PreferenceData {
  readonly pairs: PreferencePair[];
  /** Sequences (chosen or rejected) longer than maxLength, cut to it. */
  readonly truncated: number;
  /** Pairs skipped because a response had no token left after truncation. */
  readonly dropped: number;
}

/** A response given as text, or as one assistant message in a list (TRL's conversational form). */
function responseText(v: unknown, where: string, field: string): string {
  if (typeof v === 'string') {
    if (v.length === 0) throw new Error(`${where}: "${field}" must not be empty.`);
    return v;
  }
  const msgs = parseMessages(v, where, field);
  if (msgs.length !== 1 || msgs[0].role !== 'assistant') {
    throw new Error(`${where}: "${field}" must be a string or a list holding one assistant message.`);
  }
  return msgs[0].content;
}

/** The conversation "prompt then response", as an SFT example (text or chat). */
function withResponse(prompt: string | readonly ChatMessage[], response: string): SFTExample {
  return typeof prompt === 'string'
    ? { kind: 'text', prompt, completion: response }
    : { kind: 'chat', messages: [...prompt, { role: 'assistant', content: response }] };
}

/** Checks one JSONL value { prompt, chosen, rejected }; prompt is text or messages. */
export function parsePreference(value: unknown, where: string): { prompt: string | ChatMessage[]; chosen: string; rejected: string } {
  const r = asRecord(value);
  if (r === null || !('prompt' in r) || !('chosen' in r) || !('rejected' in r)) {
    throw new Error(`${where}: expected a JSON object with "prompt", "chosen" and "rejected".`);
  }
  const prompt = typeof r.prompt === 'string' ? r.prompt : parseMessages(r.prompt, where, 'prompt');
  return { prompt, chosen: responseText(r.chosen, where, 'chosen'), rejected: responseText(r.rejected, where, 'rejected') };
}

/** Renders and tokenizes one preference; the prompt is masked in both sequences. */
export function tokenizePreference(
  p: { prompt: string | readonly ChatMessage[]; chosen: string; rejected: string },
  tokenizer: Tokenizer,
  chatTemplate?: string,
): PreferencePair {
  return {
    chosen: tokenizeSegments(renderSegments(withResponse(p.prompt, p.chosen), chatTemplate), tokenizer),
    rejected: tokenizeSegments(renderSegments(withResponse(p.prompt, p.rejected), chatTemplate), tokenizer),
  };
}

/** Parses, renders, tokenizes and truncates DPO JSONL text. */
export function tokenizePreferenceData(
  text: string,
  tokenizer: Tokenizer,
  o: { readonly maxLength: number; readonly chatTemplate?: string; readonly file?: string },
): PreferenceData {
  const file = o.file ?? '<data>';
  const pairs: PreferencePair[] = [];
  let truncated = 0;
  let dropped = 0;
  for (const { line, value } of parseJsonl(text, file)) {
    const where = `${file}:${line}`;
    const full = at(where, () => tokenizePreference(parsePreference(value, where), tokenizer, o.chatTemplate));
    truncated += (full.chosen.ids.length > o.maxLength ? 1 : 0) + (full.rejected.ids.length > o.maxLength ? 1 : 0);
    const pair = { chosen: truncateExample(full.chosen, o.maxLength), rejected: truncateExample(full.rejected, o.maxLength) };
    if (!hasTarget(pair.chosen) || !hasTarget(pair.rejected)) {
      dropped += 1;
      continue;
    }
    pairs.push(pair);
  }
  if (pairs.length === 0) throw new Error(`${file}: no pair keeps a response token within maxLength ${o.maxLength}; raise --max-length.`);
  return { pairs, truncated, dropped };
}
