import { asRecord, parseJsonl } from '../data/jsonl.js';
import { applyChatTemplate, type ChatMessage } from '../tokenizer/chat.js';
import type { Tokenizer } from '../tokenizer/load.js';

/** One training conversation: plain prompt/completion text, or chat messages rendered by the template. */
export type SFTExample =
  | { readonly kind: 'text'; readonly prompt: string; readonly completion: string }
  | { readonly kind: 'chat'; readonly messages: readonly ChatMessage[] };

/** A piece of rendered text and whether its tokens are learned (assistant / completion) or only read. */
export interface Segment {
  readonly text: string;
  /** True for assistant / completion text: its tokens are targets of the loss. */
  readonly counted: boolean;
}

/** Token ids of one example and, per token, 1 when the loss counts it as a target, else 0. */
export interface TokenizedExample {
  readonly ids: readonly number[];
  /** Same length as ids; the target at input position t is ids[t + 1], counted when tokenMask[t + 1] = 1. */
  readonly tokenMask: readonly number[];
}

/** Options of {@link tokenizeSFTData}. */
export interface SFTDataOptions {
  /** Keep at most this many tokens per example (the rest is cut, and counted in `truncated`). */
  readonly maxLength: number;
  /** Jinja chat template for message examples (default: applyChatTemplate's ChatML template). */
  readonly chatTemplate?: string;
  /** File name used in error messages. */
  readonly file?: string;
}

/** Tokenized examples plus what preparing them had to change. */
export interface SFTData {
  readonly examples: TokenizedExample[];
  /** Examples longer than maxLength, cut to it. */
  readonly truncated: number;
  /** Examples left with no counted token after truncation, and so skipped. */
  readonly dropped: number;
}

const ROLES = new Set(['system', 'user', 'assistant']);

/** Validates a messages array; `where` prefixes every error ("file:line"). */
export function parseMessages(v: unknown, where: string, field = 'messages'): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) throw new Error(`${where}: "${field}" must be a non-empty array of { "role", "content" } objects.`);
  return v.map((m: unknown, i) => {
    const r = asRecord(m);
    if (r === null) throw new Error(`${where}: ${field}[${i}] must be an object { "role", "content" }.`);
    if (typeof r.role !== 'string' || !ROLES.has(r.role)) {
      throw new Error(`${where}: ${field}[${i}].role is ${JSON.stringify(r.role)}; use "system", "user" or "assistant".`);
    }
    if (typeof r.content !== 'string') throw new Error(`${where}: ${field}[${i}].content must be a string.`);
    return { role: r.role as ChatMessage['role'], content: r.content };
  });
}

/** Checks one parsed JSONL value: { messages } or { prompt, completion } (prompt may be messages). */
export function parseSFTExample(value: unknown, where: string): SFTExample {
  const r = asRecord(value);
  if (r === null) throw new Error(`${where}: expected a JSON object with "messages" or "prompt" and "completion".`);
  if ('messages' in r) {
    const messages = parseMessages(r.messages, where);
    if (!messages.some((m) => m.role === 'assistant')) {
      throw new Error(`${where}: "messages" has no assistant message, so there is nothing to learn; add one.`);
    }
    return { kind: 'chat', messages };
  }
  if ('prompt' in r && 'completion' in r) {
    if (typeof r.completion !== 'string' || r.completion.length === 0) throw new Error(`${where}: "completion" must be a non-empty string.`);
    if (typeof r.prompt === 'string') return { kind: 'text', prompt: r.prompt, completion: r.completion };
    const prompt = parseMessages(r.prompt, where, 'prompt');
    return { kind: 'chat', messages: [...prompt, { role: 'assistant', content: r.completion }] };
  }
  throw new Error(`${where}: expected "messages", or "prompt" and "completion"; got the keys ${JSON.stringify(Object.keys(r))}.`);
}

/**
 * The rendered text of an example cut into read-only and learned pieces. Chat examples are
 * rendered turn by turn: before an assistant turn the conversation so far is rendered with the
 * generation prompt (so "<|im_start|>assistant\n" is template text, masked), then with the
 * assistant turn (its content and closing "<|im_end|>\n" are learned, so the model learns to stop).
 * Each rendering must extend the previous one; a template that rewrites earlier turns is refused.
 */
export function renderSegments(ex: SFTExample, chatTemplate?: string): Segment[] {
  if (ex.kind === 'text') return [{ text: ex.prompt, counted: false }, { text: ex.completion, counted: true }];
  const segments: Segment[] = [];
  let done = '';
  const extend = (next: string, counted: boolean): void => {
    if (!next.startsWith(done)) {
      throw new Error('the chat template renders a conversation differently once a turn is added; SFT needs a template whose rendering only grows.');
    }
    if (next.length > done.length) segments.push({ text: next.slice(done.length), counted });
    done = next;
  };
  ex.messages.forEach((m, k) => {
    const upTo = ex.messages.slice(0, k + 1);
    if (m.role === 'assistant') {
      if (k === 0) throw new Error('the first message is from the assistant; start with a system or user message.');
      extend(applyChatTemplate(ex.messages.slice(0, k), { addGenerationPrompt: true, template: chatTemplate }), false);
      extend(applyChatTemplate(upTo, { template: chatTemplate }), true);
    } else {
      extend(applyChatTemplate(upTo, { template: chatTemplate }), false);
    }
  });
  return segments;
}

/** Encodes each segment on its own, so that every token belongs to exactly one side of the mask. */
export function tokenizeSegments(segments: readonly Segment[], tokenizer: Tokenizer): TokenizedExample {
  const ids: number[] = [];
  const tokenMask: number[] = [];
  for (const s of segments) {
    const piece = tokenizer.encode(s.text);
    for (const id of piece) {
      ids.push(id);
      tokenMask.push(s.counted ? 1 : 0);
    }
  }
  return { ids, tokenMask };
}

/** Keeps the first maxLength tokens (TRL's default truncation, which keeps the prompt's start). */
export function truncateExample(ex: TokenizedExample, maxLength: number): TokenizedExample {
  if (ex.ids.length <= maxLength) return ex;
  return { ids: ex.ids.slice(0, maxLength), tokenMask: ex.tokenMask.slice(0, maxLength) };
}

/** Whether any target position (token 1 onward) is counted: token 0 is never a target. */
export function hasTarget(ex: TokenizedExample): boolean {
  return ex.tokenMask.some((m, i) => i > 0 && m === 1);
}

/** Runs f, prefixing any error with `where` (a file:line). */
export function at<R>(where: string, f: () => R): R {
  try {
    return f();
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith(where) ? msg : `${where}: ${msg}`);
  }
}

/** Parses, renders, tokenizes and truncates SFT JSONL text. */
export function tokenizeSFTData(text: string, tokenizer: Tokenizer, o: SFTDataOptions): SFTData {
  if (!Number.isInteger(o.maxLength) || o.maxLength < 2) {
    throw new Error(`maxLength must be an integer >= 2 (a prompt token and a target), got ${String(o.maxLength)}.`);
  }
  const file = o.file ?? '<data>';
  const examples: TokenizedExample[] = [];
  let truncated = 0;
  let dropped = 0;
  for (const { line, value } of parseJsonl(text, file)) {
    const where = `${file}:${line}`;
    const full = at(where, () => tokenizeSegments(renderSegments(parseSFTExample(value, where), o.chatTemplate), tokenizer));
    if (full.ids.length > o.maxLength) truncated += 1;
    const ex = truncateExample(full, o.maxLength);
    if (!hasTarget(ex)) {
      dropped += 1;
      continue;
    }
    examples.push(ex);
  }
  if (examples.length === 0) {
    throw new Error(`${file}: no example keeps a completion token within maxLength ${o.maxLength}; raise --max-length.`);
  }
  return { examples, truncated, dropped };
}
