/**
 * The parts of tokenizer_config.json that change encoding or chat: the bos/eos/pad token texts,
 * add_bos_token / add_eos_token, clean_up_tokenization_spaces and chat_template (a string, or a
 * list of { name, template } of which "default" is used unless another is named).
 */
import { bad, isObject, tokenContent, type JSONObject } from './json.js';

/** What tinygpt reads from tokenizer_config.json. */
export interface TokenizerSettings {
  /** The bos token's text, e.g. "<bos>". */
  readonly bosToken?: string;
  /** The eos token's text, e.g. "<eos>". */
  readonly eosToken?: string;
  /** The padding token's text. */
  readonly padToken?: string;
  /** Whether encode prepends bos (undefined: keep tokenizer.json's post-processor). */
  readonly addBosToken?: boolean;
  /** Whether encode appends eos (undefined: keep tokenizer.json's post-processor). */
  readonly addEosToken?: boolean;
  /** transformers' clean-up of spaces before punctuation in decode. Default false. */
  readonly cleanUpTokenizationSpaces: boolean;
  /** Named Jinja chat templates; the unnamed one is "default". */
  readonly chatTemplates: ReadonlyMap<string, string>;
}

function optionalBool(o: JSONObject, key: string, where: string): boolean | undefined {
  const v = o[key];
  if (v == null) return undefined;
  if (typeof v !== 'boolean') bad(where, `"${key}" must be true or false, got ${JSON.stringify(v)}.`);
  return v;
}

/** Reads chat_template: a string or a list of { name, template }. */
export function parseChatTemplates(v: unknown, where: string): Map<string, string> {
  const out = new Map<string, string>();
  if (v == null) return out;
  if (typeof v === 'string') return out.set('default', v);
  if (!Array.isArray(v)) bad(where, `"chat_template" must be a string or a list of {"name", "template"}, got ${typeof v}.`);
  v.forEach((t, i) => {
    if (!isObject(t) || typeof t.name !== 'string' || typeof t.template !== 'string') {
      bad(where, `chat_template[${i}] must be {"name": string, "template": string}.`);
    }
    out.set(t.name, t.template);
  });
  return out;
}

/** Parses tokenizer_config.json (undefined: all defaults). */
export function parseTokenizerConfig(json: unknown, where: string): TokenizerSettings {
  if (json == null) return { cleanUpTokenizationSpaces: false, chatTemplates: new Map() };
  if (!isObject(json)) bad(where, 'expected a JSON object.');
  const tokenText = (key: string): string | undefined => {
    const v = json[key];
    const t = tokenContent(v);
    if (v != null && t === undefined) bad(where, `"${key}" must be a string or {"content": string}, got ${JSON.stringify(v)}.`);
    return t;
  };
  return {
    bosToken: tokenText('bos_token'),
    eosToken: tokenText('eos_token'),
    padToken: tokenText('pad_token'),
    addBosToken: optionalBool(json, 'add_bos_token', where),
    addEosToken: optionalBool(json, 'add_eos_token', where),
    cleanUpTokenizationSpaces: optionalBool(json, 'clean_up_tokenization_spaces', where) ?? false,
    chatTemplates: parseChatTemplates(json.chat_template, where),
  };
}

/** transformers' clean_up_tokenization: no space before . ? ! , and English contractions. */
export function cleanUpSpaces(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
