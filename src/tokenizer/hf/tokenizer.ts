/**
 * A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json), browser-safe: built from
 * the parsed JSON, it encodes and decodes as Hugging Face's `tokenizers` does for the
 * components Llama, Gemma and GPT-2 use. Encoding: cut out added tokens → normalize each
 * stretch → cut out normalized added tokens → pre-tokenize → BPE → post-process (bos/eos).
 * Decoding: ids → token strings → the decoder chain.
 */
import { applyChatTemplate, type ChatMessage, type ChatTemplateOptions } from '../chat.js';
import type { Tokenizer } from '../load.js';
import { AddedTokenSplitter, parseAddedTokens, type AddedToken } from './addedTokens.js';
import { BPEModel, type TokenizerModel } from './bpeModel.js';
import { cleanUpSpaces, parseTokenizerConfig, type TokenizerSettings } from './config.js';
import { buildDecoder, type Decoder } from './decoders.js';
import { arr, bad, isObject, obj } from './json.js';
import { buildNormalizer, type Normalizer } from './normalizers.js';
import { bosEosProcessor, buildPostProcessor, type PostProcessor } from './postProcess.js';
import { buildPreTokenizer, type PreTokenizer } from './pretokenizers.js';

/** Options of {@link HFTokenizer.encode}. */
export interface EncodeOptions {
  /** Add the post-processor's special tokens (bos for Llama/Gemma). Default true, as in Hugging Face. */
  readonly addSpecialTokens?: boolean;
}

/** Options of {@link HFTokenizer.decode}. */
export interface DecodeOptions {
  /** Leave out special tokens (bos, eos, <end_of_turn>, ...). Default false. */
  readonly skipSpecialTokens?: boolean;
}

/** The saved form ({@link HFTokenizer.toJSON}): both files, as parsed. */
export interface HFTokenizerJSON {
  readonly type: 'hf-tokenizer';
  /** tokenizer.json. */
  readonly tokenizer: unknown;
  /** tokenizer_config.json, if there was one. */
  readonly config?: unknown;
  /** A chat template read from chat_template.jinja, which overrides the config's. */
  readonly chatTemplate?: string;
}

/** Whether json is a Hugging Face tokenizer.json (it has a "model" object) or {@link HFTokenizerJSON}. */
export function isHFTokenizerJSON(json: unknown): boolean {
  return isObject(json) && (json.type === 'hf-tokenizer' || (json.type === undefined && isObject(json.model)));
}

/** Hugging Face tokenizer (BPE model) that fits tinygpt's {@link Tokenizer}. */
export class HFTokenizer implements Tokenizer {
  /** Number of ids: one past the largest id of the vocabulary and the added tokens. */
  readonly vocabSize: number;
  private readonly model: TokenizerModel;
  private readonly normalizer: Normalizer;
  private readonly preTokenizer: PreTokenizer;
  private readonly postProcessor: PostProcessor;
  private readonly decoder: Decoder;
  private readonly added: ReadonlyMap<number, AddedToken>;
  private readonly addedIds: ReadonlyMap<string, number>;
  private readonly rawSplitter: AddedTokenSplitter;
  private readonly normalizedSplitter: AddedTokenSplitter;
  private readonly idToTokenTable: (string | undefined)[];
  private readonly settings: TokenizerSettings;

  private constructor(
    private readonly files: HFTokenizerJSON,
    where: string,
  ) {
    const json = obj(files.tokenizer, where, 'tokenizer.json');
    this.settings = parseTokenizerConfig(files.config, `${where} (tokenizer_config.json)`);
    if (files.chatTemplate !== undefined) {
      this.settings = { ...this.settings, chatTemplates: new Map([...this.settings.chatTemplates, ['default', files.chatTemplate]]) };
    }
    const modelJson = obj(json.model, where, '"model"');
    if (!BPEModel.describes(modelJson)) {
      bad(where, `model type "${String(modelJson.type)}" is not supported by tinygpt (supported: BPE).`);
    }
    this.model = new BPEModel(modelJson, where);
    this.normalizer = buildNormalizer(json.normalizer, where);
    this.preTokenizer = buildPreTokenizer(json.pre_tokenizer, where);
    this.decoder = buildDecoder(json.decoder, where);
    const added = parseAddedTokens(arr(json, 'added_tokens', where), where);
    this.added = new Map(added.map((t) => [t.id, t] as const));
    this.addedIds = new Map(added.map((t) => [t.content, t.id] as const));
    this.rawSplitter = new AddedTokenSplitter(added.filter((t) => !t.normalized));
    this.normalizedSplitter = new AddedTokenSplitter(added.filter((t) => t.normalized));
    const table: (string | undefined)[] = [];
    for (const [tok, id] of this.model.vocab) table[id] = tok;
    for (const t of added) table[t.id] = t.content;
    this.idToTokenTable = table;
    this.vocabSize = table.length;
    const s = this.settings;
    if (s.addBosToken !== undefined || s.addEosToken !== undefined) {
      const bos = s.addBosToken ? this.requireId(s.bosToken, 'bos_token', where) : undefined;
      const eos = s.addEosToken ? this.requireId(s.eosToken, 'eos_token', where) : undefined;
      this.postProcessor = bosEosProcessor(bos, eos);
    } else {
      this.postProcessor = buildPostProcessor(json.post_processor, where);
    }
  }

  private requireId(token: string | undefined, key: string, where: string): number {
    const id = token === undefined ? undefined : this.tokenToId(token);
    if (id === undefined) bad(where, `tokenizer_config.json asks to add ${key} but ${key} (${JSON.stringify(token)}) is not a token.`);
    return id;
  }

  /**
   * Builds a tokenizer from parsed tokenizer.json (or a saved {@link HFTokenizerJSON}) and,
   * optionally, tokenizer_config.json. `where` names the source in error messages.
   */
  static fromJSON(tokenizer: unknown, config?: unknown, where = 'tokenizer.json'): HFTokenizer {
    if (isObject(tokenizer) && tokenizer.type === 'hf-tokenizer') {
      const chatTemplate = typeof tokenizer.chatTemplate === 'string' ? tokenizer.chatTemplate : undefined;
      return new HFTokenizer({ type: 'hf-tokenizer', tokenizer: tokenizer.tokenizer, config: tokenizer.config, chatTemplate }, where);
    }
    return new HFTokenizer({ type: 'hf-tokenizer', tokenizer, config }, where);
  }

  /** Like {@link fromJSON}, with a chat template from a separate chat_template.jinja file. */
  static fromFiles(files: { readonly tokenizer: unknown; readonly config?: unknown; readonly chatTemplate?: string }, where = 'tokenizer.json'): HFTokenizer {
    return new HFTokenizer({ type: 'hf-tokenizer', ...files }, where);
  }

  /** Token ids of text (special-token text such as "<start_of_turn>" becomes its id). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new Error(`HFTokenizer.encode: expected a string, got ${typeof text}.`);
    const ids: number[] = [];
    for (const seg of this.rawSplitter.split(text)) {
      if (seg.id !== undefined) {
        ids.push(seg.id);
        continue;
      }
      const normalized = this.normalizer(seg.text as string);
      for (const sub of this.normalizedSplitter.split(normalized)) {
        if (sub.id !== undefined) ids.push(sub.id);
        else {
          const first = seg.start === 0 && sub.start === 0;
          for (const p of this.preTokenizer([{ text: sub.text as string, first }])) ids.push(...this.model.encodePiece(p.text));
        }
      }
    }
    return (options.addSpecialTokens ?? true) ? this.postProcessor(ids) : ids;
  }

  /** Text of ids. Ids without a token (e.g. an embedding padded past the vocabulary) are skipped, as in Hugging Face. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (!Array.isArray(ids)) throw new Error('HFTokenizer.decode: expected an array of token ids.');
    const skip = options.skipSpecialTokens ?? false;
    const tokens: string[] = [];
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0) throw new Error(`HFTokenizer.decode: ids[${i}] = ${String(id)} is not a token id.`);
      const tok = this.idToTokenTable[id];
      if (tok === undefined || (skip && this.added.get(id)?.special === true)) return;
      tokens.push(tok);
    });
    const text = this.decoder(tokens).join('');
    return this.settings.cleanUpTokenizationSpaces ? cleanUpSpaces(text) : text;
  }

  /** The id of a token string (vocabulary or added), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.addedIds.get(token) ?? this.model.vocab.get(token);
  }

  /** The token string of an id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.idToTokenTable[id];
  }

  /** The added tokens, by id. */
  get addedTokens(): ReadonlyMap<number, AddedToken> {
    return this.added;
  }

  /** bos token text from tokenizer_config.json. */
  get bosToken(): string | undefined {
    return this.settings.bosToken;
  }

  /** eos token text from tokenizer_config.json. */
  get eosToken(): string | undefined {
    return this.settings.eosToken;
  }

  /** The bos token's id. */
  get bosTokenId(): number | undefined {
    return this.settings.bosToken === undefined ? undefined : this.tokenToId(this.settings.bosToken);
  }

  /** The eos token's id. */
  get eosTokenId(): number | undefined {
    return this.settings.eosToken === undefined ? undefined : this.tokenToId(this.settings.eosToken);
  }

  /** The default chat template (tokenizer_config.json "chat_template" or chat_template.jinja). */
  get chatTemplate(): string | undefined {
    const t = this.settings.chatTemplates;
    return t.get('default') ?? t.values().next().value;
  }

  /** Every named chat template. */
  get chatTemplates(): ReadonlyMap<string, string> {
    return this.settings.chatTemplates;
  }

  /**
   * Renders messages with this tokenizer's chat template (or `options.template`, or the name of
   * one of {@link chatTemplates}), with its bos_token and eos_token. Encode the result with
   * addSpecialTokens: false, since the template writes bos itself.
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions & { readonly templateName?: string } = {}): string {
    const named = options.templateName === undefined ? undefined : this.settings.chatTemplates.get(options.templateName);
    if (options.templateName !== undefined && named === undefined) {
      throw new Error(`applyChatTemplate: no chat template named "${options.templateName}"; have ${[...this.settings.chatTemplates.keys()].join(', ') || 'none'}.`);
    }
    const template = options.template ?? named ?? this.chatTemplate;
    if (template === undefined) {
      throw new Error('applyChatTemplate: this tokenizer has no chat_template (tokenizer_config.json); pass { template } explicitly.');
    }
    return applyChatTemplate(messages, { bosToken: this.bosToken, eosToken: this.eosToken, ...options, template });
  }

  /** Both files as parsed, which {@link fromJSON} (and tokenizerFromJSON) read back. */
  toJSON(): HFTokenizerJSON {
    return this.files;
  }
}

