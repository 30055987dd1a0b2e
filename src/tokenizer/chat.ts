import { Template } from '@huggingface/jinja';

/** One turn of a conversation. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** Options of {@link applyChatTemplate}. */
export interface ChatTemplateOptions {
  /** End with the opening of an assistant turn, so the model continues as the assistant. */
  readonly addGenerationPrompt?: boolean;
  /** A Jinja template (Hugging Face's chat_template convention); default {@link DEFAULT_CHAT_TEMPLATE}. */
  readonly template?: string;
  /** The template's `bos_token` variable (a model folder's bos token text, e.g. "<bos>"). */
  readonly bosToken?: string;
  /** The template's `eos_token` variable. */
  readonly eosToken?: string;
}



/** The special tokens the default template uses; train a BPE tokenizer with them as specialTokens. */
export const CHAT_SPECIAL_TOKENS: readonly string[] = ['<|im_start|>', '<|im_end|>'];

/**
 * ChatML-style: each message becomes "<|im_start|>{role}\n{content}<|im_end|>\n"; with a
 * generation prompt the text ends in "<|im_start|>assistant\n".
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const ROLES = new Set(['system', 'user', 'assistant']);

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new Error('applyChatTemplate needs a non-empty array of { role, content } messages.');
  }
  messages.forEach((m, i) => {
    if (m == null || typeof m !== 'object') throw new Error(`applyChatTemplate: message ${i} must be an object { role, content }.`);
    if (!ROLES.has(m.role)) {
      throw new Error(`applyChatTemplate: message ${i} has role ${JSON.stringify(m.role)}; use "system", "user" or "assistant".`);
    }
    if (typeof m.content !== 'string') throw new Error(`applyChatTemplate: message ${i} needs a string content.`);
  });
}

/** Renders a conversation to the text a chat model is trained on and prompted with. */
export function applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
  checkMessages(messages);
  const source = options.template ?? DEFAULT_CHAT_TEMPLATE;
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    throw new Error(`applyChatTemplate: the chat template does not parse (${(e as Error).message}).`);
  }
  const variables: Record<string, unknown> = {
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    add_generation_prompt: options.addGenerationPrompt ?? false,
  };
  // raise_exception(msg) is a @huggingface/jinja global: it throws Error(msg), reported below.
  // Hugging Face passes every special token; an undefined one renders as "" (as in Jinja).
  if (options.bosToken !== undefined) variables.bos_token = options.bosToken;
  if (options.eosToken !== undefined) variables.eos_token = options.eosToken;
  try {
    return template.render(variables);
  } catch (e) {
    throw new Error(`applyChatTemplate: the chat template stopped: ${(e as Error).message}`);
  }
}
