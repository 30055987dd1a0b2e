/**
 * A multi-turn chat over one KV cache. Each turn renders the whole conversation with the chat
 * template, and feeds the model only the text past what the cache already holds (the prompt
 * rendered so far plus the reply as generated, stop token included); if the template rewrote
 * earlier turns (e.g. it trims replies) the cache no longer matches and the conversation is
 * read again from the start, so the model always sees exactly the rendered conversation.
 */
import type { LanguageModel } from '../model/types.js';
import { GenerationSession, type SessionOptions, type TurnOptions } from '../sample/session.js';
import { streamText } from '../sample/streamer.js';
import type { ChatMessage } from '../tokenizer/chat.js';
import type { HFTokenizer } from '../tokenizer/hf/tokenizer.js';

/** Per-turn options: generation settings without stop/decode, which the chat supplies. */
export type ChatTurnOptions = Omit<TurnOptions, 'stop' | 'decode'>;

/** A conversation with a model, kept in its KV cache between turns. */
export class ChatSession {
  private readonly session: GenerationSession;
  private readonly history: ChatMessage[] = [];
  /** The text whose tokens the cache holds. */
  private cachedText = '';
  private fed = 0;

  constructor(
    model: LanguageModel,
    private readonly tokenizer: HFTokenizer,
    private readonly stopTokenIds: readonly number[],
    options: SessionOptions & { readonly system?: string } = {},
  ) {
    this.session = new GenerationSession(model, options);
    if (options.system !== undefined) this.history.push({ role: 'system', content: options.system });
  }

  /** The conversation so far. */
  get messages(): readonly ChatMessage[] {
    return this.history;
  }

  /** Every id the cache holds: the rendered turns and the generated replies. */
  get tokens(): readonly number[] {
    return this.session.tokens;
  }

  /** How many tokens the last turn fed to the model before generating. */
  get lastFedTokens(): number {
    return this.fed;
  }

  /** Sends a user message and streams the reply's text; the reply joins the conversation. */
  async *send(content: string, options: ChatTurnOptions): AsyncGenerator<string, void, undefined> {
    const tok = this.tokenizer;
    const messages: ChatMessage[] = [...this.history, { role: 'user', content }];
    const rendered = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    let delta = rendered;
    if (this.cachedText.length > 0 && rendered.startsWith(this.cachedText)) delta = rendered.slice(this.cachedText.length);
    else this.session.reset();
    const newIds = tok.encode(delta, { addSpecialTokens: false });
    this.fed = newIds.length;
    const start = this.session.tokens.length + newIds.length;
    const ids = this.session.generate(newIds, { ...options, stop: [...this.stopTokenIds] });
    let reply = '';
    try {
      for await (const piece of streamText(ids, (x) => tok.decode(x, { skipSpecialTokens: true }))) {
        reply += piece;
        yield piece;
      }
    } finally {
      this.history.push({ role: 'user', content }, { role: 'assistant', content: reply });
      // What the cache now holds: the rendered prompt and every generated id, stop token included.
      this.cachedText = rendered + tok.decode(this.session.tokens.slice(start));
    }
  }

  /** Frees the KV cache (not the model). */
  dispose(): void {
    this.session.dispose();
  }
}
