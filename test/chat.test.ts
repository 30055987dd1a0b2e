import { describe, expect, it } from 'vitest';
import { BPETokenizer } from '../src/tokenizer/bpe.js';
import { applyChatTemplate, CHAT_SPECIAL_TOKENS } from '../src/tokenizer/chat.js';

const conversation = [
  { role: 'system', content: 'Speak as Hamlet.' },
  { role: 'user', content: 'To be?' },
] as const;

describe('applyChatTemplate', () => {
  it('renders the default ChatML-style template exactly', () => {
    expect(applyChatTemplate(conversation)).toBe(
      '<|im_start|>system\nSpeak as Hamlet.<|im_end|>\n<|im_start|>user\nTo be?<|im_end|>\n',
    );
    expect(applyChatTemplate(conversation, { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nSpeak as Hamlet.<|im_end|>\n<|im_start|>user\nTo be?<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('renders a custom Jinja template', () => {
    const template = "{% for m in messages %}[{{ m.role | upper }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[ASSISTANT] {% endif %}";
    expect(applyChatTemplate(conversation, { template, addGenerationPrompt: true })).toBe(
      '[SYSTEM] Speak as Hamlet.\n[USER] To be?\n[ASSISTANT] ',
    );
  });

  it('rejects bad roles, empty conversations and broken templates clearly', () => {
    expect(() => applyChatTemplate([])).toThrow(/non-empty array/);
    expect(() => applyChatTemplate([{ role: 'narrator' as 'user', content: 'x' }])).toThrow(
      /message 0 has role "narrator"; use "system", "user" or "assistant"/,
    );
    expect(() => applyChatTemplate(conversation, { template: '{% for %}' })).toThrow(/chat template does not parse/);
  });
});

describe('a chat template stored with a BPE tokenizer', () => {
  const corpus = 'user: to be or not to be\nassistant: that is the question\n'.repeat(20);

  it('encodes the rendered special tokens as single ids and survives toJSON/fromJSON', () => {
    const tok = BPETokenizer.train(corpus, 300, { specialTokens: [...CHAT_SPECIAL_TOKENS] });
    const text = tok.applyChatTemplate(conversation, { addGenerationPrompt: true });
    expect(text).toBe(applyChatTemplate(conversation, { addGenerationPrompt: true }));
    const ids = tok.encode(text);
    const start = tok.encode('<|im_start|>');
    expect(start).toHaveLength(1); // one id, matched before BPE
    expect(ids.filter((id) => id === start[0])).toHaveLength(3); // system, user, assistant
    expect(tok.decode(ids)).toBe(text);

    const custom = tok.withChatTemplate("{% for m in messages %}{{ m.content }}|{% endfor %}");
    const again = BPETokenizer.fromJSON(JSON.parse(JSON.stringify(custom.toJSON())));
    expect(again.chatTemplate).toBe(custom.chatTemplate);
    expect(again.applyChatTemplate(conversation)).toBe('Speak as Hamlet.|To be?|');
    expect(tok.chatTemplate).toBeUndefined();
  });

  it('rejects a non-string chatTemplate in JSON', () => {
    const json = { ...BPETokenizer.train(corpus, 260).toJSON(), chatTemplate: 42 };
    expect(() => BPETokenizer.fromJSON(json)).toThrow(/"chatTemplate" must be a Jinja template string/);
  });
});
