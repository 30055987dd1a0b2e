import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../src/pretrained/loadTokenizer.js';
import { readStopTokenIds } from '../src/pretrained/stopTokens.js';
import { HFTokenizer } from '../src/tokenizer/hf/tokenizer.js';
import { GEMMA3_TEMPLATE, LLAMA3_TEMPLATE } from './chatTemplates.js';
import { llama3Tokenizer, sentencePieceTokenizer } from './hfTokenizerFixtures.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-hfchat-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const conversation = [
  { role: 'system', content: 'You are terse. ' },
  { role: 'user', content: 'Hello' },
  { role: 'assistant', content: 'Hi.' },
  { role: 'user', content: 'Bye?' },
] as const;

/** Writes a folder of JSON (objects) and text (strings) files. */
function writeFolder(name: string, files: Record<string, unknown>): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const gemmaConfig = { bos_token: '<bos>', eos_token: '<eos>', add_bos_token: true, chat_template: GEMMA3_TEMPLATE };

describe('chat templates from the folder', () => {
  it('Gemma 3: the system message folds into the first user turn; the model turn is "model"', () => {
    const tok = HFTokenizer.fromJSON(sentencePieceTokenizer({ style: 'gemma' }), gemmaConfig);
    expect(tok.applyChatTemplate(conversation, { addGenerationPrompt: true })).toBe(
      '<bos><start_of_turn>user\nYou are terse.\n\nHello<end_of_turn>\n' +
        '<start_of_turn>model\nHi.<end_of_turn>\n' +
        '<start_of_turn>user\nBye?<end_of_turn>\n' +
        '<start_of_turn>model\n',
    );
    expect(tok.applyChatTemplate([{ role: 'user', content: 'Hello' }])).toBe('<bos><start_of_turn>user\nHello<end_of_turn>\n');
  });

  it("Gemma 3: the template's raise_exception becomes one clear error", () => {
    const tok = HFTokenizer.fromJSON(sentencePieceTokenizer({ style: 'gemma' }), gemmaConfig);
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }])).toThrow(
      /applyChatTemplate: the chat template stopped: .*Conversation roles must alternate/,
    );
  });

  it('Gemma 3: the rendered prompt encodes with bos once and the turn markers as single ids', () => {
    const tok = HFTokenizer.fromJSON(sentencePieceTokenizer({ style: 'gemma' }), gemmaConfig);
    const ids = tok.encode(tok.applyChatTemplate([{ role: 'user', content: 'Hello' }], { addGenerationPrompt: true }), { addSpecialTokens: false });
    const start = tok.tokenToId('<start_of_turn>');
    const end = tok.tokenToId('<end_of_turn>');
    expect(ids[0]).toBe(tok.bosTokenId);
    expect(ids.filter((i) => i === tok.bosTokenId)).toHaveLength(1);
    expect(ids.filter((i) => i === start)).toHaveLength(2);
    expect(ids.filter((i) => i === end)).toHaveLength(1);
    expect(tok.decode(ids)).toBe('<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('user\nHello\nmodel\n');
  });

  it('Llama 3: header ids and <|eot_id|>', () => {
    const tok = HFTokenizer.fromJSON(llama3Tokenizer(), { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>', chat_template: LLAMA3_TEMPLATE });
    expect(tok.applyChatTemplate(conversation.slice(0, 2), { addGenerationPrompt: true })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });
});

describe('loadTokenizer and stop ids', () => {
  it('reads tokenizer.json + tokenizer_config.json, and chat_template.jinja over the config', async () => {
    const json = sentencePieceTokenizer({ style: 'gemma' });
    const dir = writeFolder('gemma', { 'tokenizer.json': json, 'tokenizer_config.json': gemmaConfig });
    const tok = await loadTokenizer(dir);
    expect(tok.chatTemplate).toBe(GEMMA3_TEMPLATE);
    expect(tok.encode('Hello there')).toEqual(HFTokenizer.fromJSON(json, gemmaConfig).encode('Hello there'));
    writeFileSync(join(dir, 'chat_template.jinja'), '{{ bos_token }}J');
    expect((await loadTokenizer(dir)).applyChatTemplate([{ role: 'user', content: 'x' }])).toBe('<bos>J');
  });

  it('stop ids: generation_config.json eos list, else config.json, plus eos and the template\'s end-of-turn', async () => {
    const json = sentencePieceTokenizer({ style: 'gemma' });
    const tok = HFTokenizer.fromJSON(json, gemmaConfig);
    const eos = tok.eosTokenId as number;
    const eot = tok.tokenToId('<end_of_turn>') as number;
    // Gemma fixture: <eos> = 1 and <end_of_turn> right after the four specials = 5.
    expect([eos, eot]).toEqual([1, 5]);
    const withGen = writeFolder('gen', { 'tokenizer.json': json, 'tokenizer_config.json': gemmaConfig, 'generation_config.json': { eos_token_id: [5, 1] } });
    expect(await readStopTokenIds(withGen, tok)).toEqual([5, 1]);
    const withCfg = writeFolder('cfg', { 'config.json': { model_type: 'gemma3', text_config: { eos_token_id: 1 } } });
    expect(await readStopTokenIds(withCfg, tok)).toEqual([1, 5]);
    const noTemplate = HFTokenizer.fromJSON(json, { eos_token: '<eos>' });
    expect(await readStopTokenIds(writeFolder('bare', {}), noTemplate)).toEqual([1]);
    const bad = writeFolder('bad', { 'generation_config.json': { eos_token_id: 'x' } });
    await expect(readStopTokenIds(bad, tok)).rejects.toThrow(/generation_config.json: eos_token_id must be a token id or a list of them/);
  });

  it('names the missing or wrong file', async () => {
    await expect(loadTokenizer(writeFolder('empty', {}))).rejects.toThrow(/has no tokenizer.json: pass a Hugging Face model folder/);
    const tiny = writeFolder('tinygpt', { 'tokenizer.json': { type: 'char', chars: 'ab' } });
    await expect(loadTokenizer(tiny)).rejects.toThrow(/is a tinygpt tokenizer \(type "char"\).*loadTrained/);
  });
});
