import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChatSession } from '../src/pretrained/chatSession.js';
import { pipeline, type FolderTextGenerationPipeline } from '../src/pretrained/pipeline.js';
import { nextLogits } from '../src/sample/context.js';
import { argmax } from '../src/sample/sampler.js';
import type { LanguageModel } from '../src/model/types.js';
import type { GPT } from '../src/model/gpt.js';
import { HFTokenizer } from '../src/tokenizer/hf/tokenizer.js';
import { GEMMA3_TEMPLATE } from './chatTemplates.js';
import { chatTokenizerFiles, writeChatFolder } from './hfFolder.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-hfpipe-'));
const dir = join(scratch, 'gemma-tiny');
let pipe: FolderTextGenerationPipeline;

beforeAll(async () => {
  (await writeChatFolder(dir)).dispose();
  pipe = await pipeline('text-generation', dir);
});
afterAll(() => {
  pipe?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

/** Greedy continuation computed independently: a full forward pass per step, argmax, no cache. */
function greedyByHand(model: LanguageModel, prompt: readonly number[], n: number, stop: readonly number[] = []): number[] {
  const ids = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = argmax(nextLogits(model, ids));
    if (stop.includes(id)) break;
    ids.push(id);
    out.push(id);
  }
  return out;
}

describe("pipeline('text-generation', dir)", () => {
  it('continues a prompt greedily: bos + prompt ids, returnFullText prepends the prompt', async () => {
    const tok = pipe.tokenizer;
    const ids = tok.encode('The results were');
    expect(ids[0]).toBe(tok.bosTokenId);
    const before = tf.memory().numTensors;
    const [out] = await pipe('The results were', { maxNewTokens: 6, stop: [] });
    const [only] = await pipe('The results were', { maxNewTokens: 6, returnFullText: false });
    expect(tf.memory().numTensors).toBe(before);
    const want = greedyByHand(pipe.model, ids, 6, pipe.stopTokenIds);
    expect(only.generatedText).toBe(tok.decode(want, { skipSpecialTokens: true }));
    expect(out.generatedText).toBe('The results were' + only.generatedText);
  });

  it("renders messages with the folder's template and returns only the reply with returnFullText false", async () => {
    const tok = pipe.tokenizer;
    const messages = [
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'How were the results?' },
    ] as const;
    const rendered = pipe.renderChat(messages);
    expect(rendered).toBe(
      '<bos><start_of_turn>user\nAnswer briefly.\n\nHow were the results?<end_of_turn>\n<start_of_turn>model\n',
    );
    const [reply] = await pipe(messages, { maxNewTokens: 8, returnFullText: false });
    const want = greedyByHand(pipe.model, tok.encode(rendered, { addSpecialTokens: false }), 8, pipe.stopTokenIds);
    expect(reply.generatedText).toBe(tok.decode(want, { skipSpecialTokens: true }));
    const [full] = await pipe(messages, { maxNewTokens: 8 });
    expect(full.generatedText).toEqual([...messages, { role: 'assistant', content: reply.generatedText }]);
  });

  it("stops at the folder's eos ids (generation_config.json), leaving the stop token out", async () => {
    const tok = pipe.tokenizer;
    const ids = tok.encode('The results were');
    const free = greedyByHand(pipe.model, ids, 8);
    // Make the first greedy token not seen before it (after the first) the folder's eos: the output must end right before it.
    const at = free.findIndex((id, i) => i >= 1 && !free.slice(0, i).includes(id));
    expect(at).toBeGreaterThanOrEqual(1);
    const other = join(scratch, 'eos');
    (await writeChatFolder(other, { eosTokenId: [free[at]] })).dispose();
    const p2 = await pipeline('text-generation', other);
    try {
      expect(p2.stopTokenIds).toContain(free[at]);
      const [out] = await p2('The results were', { maxNewTokens: 8, returnFullText: false });
      expect(out.generatedText).toBe(tok.decode(free.slice(0, at), { skipSpecialTokens: true }));
    } finally {
      p2.dispose();
    }
  });

  it('samples only with doSample, reproducibly for a seed', async () => {
    const opts = { maxNewTokens: 10, returnFullText: false, doSample: true, temperature: 5, seed: 5 } as const;
    const [a] = await pipe('We are', opts);
    const [b] = await pipe('We are', opts);
    expect(a.generatedText).toBe(b.generatedText);
    const [greedy] = await pipe('We are', { maxNewTokens: 10, returnFullText: false });
    expect(a.generatedText).not.toBe(greedy.generatedText);
  });

  it('explains a bad task, folder or options in one line', async () => {
    await expect(pipeline('summarization' as 'text-generation', dir)).rejects.toThrow(/unknown task "summarization"/);
    await expect(pipeline('text-generation', join(scratch, 'nope'))).rejects.toThrow(/has no tokenizer.json/);
    await expect(pipe('x', undefined as unknown as { maxNewTokens: number })).rejects.toThrow(/options are required/);
  });
});

describe("pipeline(..., { dtype: 'auto' }): stored dtype on the DotEngine, inference only", () => {
  it('generates what the fp32 pipeline generates, for prompts, messages and a chat, creating no tensor', async () => {
    const before = tf.memory().numTensors;
    const auto = await pipeline('text-generation', dir, { dtype: 'auto' });
    try {
      expect(tf.memory().numTensors).toBe(before);
      const messages = [{ role: 'user', content: 'How were the results?' }] as const;
      for (const input of ['The results were', messages] as const) {
        const opts = { maxNewTokens: 8, returnFullText: false } as const;
        const [a] = await auto(input as string, opts);
        const [b] = await pipe(input as string, opts);
        expect(a.generatedText).toBe(b.generatedText);
        expect(a.generatedText.length).toBeGreaterThan(0);
      }
      // Two conversations interleaved share the one decoder: each replays its own history when it resumes.
      const [c1, c2, ref] = [auto, auto, pipe].map(
        (p) => new ChatSession(p.model, p.tokenizer, p.stopTokenIds, { system: 'Be brief.' }),
      );
      const say = async (c: ChatSession, text: string) => {
        let reply = '';
        for await (const piece of c.send(text, { maxNewTokens: 4, temperature: 0 })) reply += piece;
        return reply;
      };
      const first = await say(c1, 'Hello there');
      expect(await say(c2, 'Something else entirely')).toBeTypeOf('string');
      expect(first).toBe(await say(ref, 'Hello there'));
      expect(await say(c1, 'And the outlook?')).toBe(await say(ref, 'And the outlook?'));
      for (const c of [c1, c2, ref]) c.dispose();
      expect(auto.model.numParams()).toBe(pipe.model.numParams());
      const one = tf.zeros([1, 1], 'int32') as tf.Tensor2D;
      expect(() => auto.model.forward(one)).toThrow(
        /loaded for inference only \(dtype "auto"\); load it with GPT.fromPretrained/,
      );
      one.dispose();
    } finally {
      auto.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    await expect(pipeline('text-generation', dir, { dtype: 'bf16' as 'auto' })).rejects.toThrow(
      /dtype must be "fp32" or "auto", got "bf16"/,
    );
  });
});

describe('ChatSession keeps the conversation in the KV cache', () => {
  it('feeds only the new turn, and each reply is the greedy continuation of the ids it holds', async () => {
    const before = tf.memory().numTensors;
    const model = pipe.model as GPT; // the fp32 pipeline's model
    // The folder's template trims replies, so a reply with a leading or trailing space no longer
    // matches the cache and the conversation is re-read; without the trim the cache always matches.
    const files = chatTokenizerFiles();
    const tok = HFTokenizer.fromJSON(files.tokenizer, {
      ...files.config,
      chat_template: GEMMA3_TEMPLATE.replaceAll(' | trim', ''),
    });
    // The tensor cache path goes through model.forwardCached, so the ids fed per call can be counted.
    const fed: number[] = [];
    const forward = (model.forwardCached as NonNullable<typeof model.forwardCached>).bind(model);
    const spy = vi.spyOn(model, 'forwardCached').mockImplementation((ids, cache) => {
      fed.push(ids.shape[1]);
      return forward(ids, cache);
    });
    const chat = new ChatSession(model, tok, pipe.stopTokenIds, { fastDecoder: false, system: 'Be brief.' });
    try {
      const lengths: number[] = [];
      for (const [k, turn] of ['Hello there', 'And the outlook?'].entries()) {
        fed.length = 0;
        const held = chat.tokens.length;
        let reply = '';
        for await (const piece of chat.send(turn, { maxNewTokens: 5, temperature: 0 })) reply += piece;
        // One call reads the new turn's tokens (after turn 1 also the last reply token, sampled but
        // not yet read), then one token per step: the cache holds the rest.
        expect(fed[0]).toBe(chat.lastFedTokens + (k > 0 ? 1 : 0));
        expect(fed.slice(1).every((n) => n === 1)).toBe(true);
        const start = held + chat.lastFedTokens;
        const generated = chat.tokens.slice(start);
        expect(greedyByHand(model, chat.tokens.slice(0, start), generated.length)).toEqual(generated);
        expect(reply).toBe(tok.decode(generated, { skipSpecialTokens: true }));
        lengths.push(chat.lastFedTokens);
      }
      const whole = tok.encode(tok.applyChatTemplate(chat.messages.slice(0, 4), { addGenerationPrompt: true }), {
        addSpecialTokens: false,
      });
      // Turn 2 fed "<end_of_turn>\n<start_of_turn>user\nAnd the outlook?<end_of_turn>\n<start_of_turn>model\n" or less.
      expect(lengths[1]).toBeLessThan(whole.length / 2);
      expect(chat.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
    } finally {
      chat.dispose();
      spy.mockRestore();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('ChatSession when the template rewrites earlier turns', () => {
  it('reads the whole conversation again, so the model sees exactly the rendered text', async () => {
    const files = chatTokenizerFiles();
    // The message count at the front changes every turn: the cached text never prefixes the next render.
    const template =
      "{{ bos_token }}{{ messages | length }}:{% for m in messages %}{{ m['content'] }}<end_of_turn>{% endfor %}<start_of_turn>";
    const tok = HFTokenizer.fromJSON(files.tokenizer, { ...files.config, chat_template: template });
    const chat = new ChatSession(pipe.model, tok, pipe.stopTokenIds);
    try {
      for await (const piece of chat.send('Hello there', { maxNewTokens: 3, temperature: 0 })) void piece;
      for await (const piece of chat.send('And then?', { maxNewTokens: 3, temperature: 0 })) void piece;
      const rendered = tok.applyChatTemplate(chat.messages.slice(0, 3), { addGenerationPrompt: true });
      const ids = tok.encode(rendered, { addSpecialTokens: false });
      expect(chat.lastFedTokens).toBe(ids.length);
      expect(chat.tokens.slice(0, ids.length)).toEqual(ids);
      const generated = chat.tokens.slice(ids.length);
      expect(greedyByHand(pipe.model, ids, generated.length)).toEqual(generated);
    } finally {
      chat.dispose();
    }
  });
});
