/**
 * Post-processors of tokenizer.json: add the special tokens around an encoded text (for one
 * sequence; pairs are not needed for generation). TemplateProcessing's "single" template is a
 * list of { SpecialToken: { id } } and { Sequence: { id: "A" } } items.
 */
import { arr, bad, isObject, obj, typeOf, unsupported, type JSONObject } from './json.js';

/** Adds special tokens to the ids of one text. */
export type PostProcessor = (ids: readonly number[]) => number[];

const KNOWN = ['TemplateProcessing', 'ByteLevel', 'Sequence', 'RobertaProcessing', 'BertProcessing'];

function specialIds(o: JSONObject, name: string, where: string): number[] {
  const table = obj(o.special_tokens ?? {}, where, 'TemplateProcessing "special_tokens"');
  const entry = table[name];
  if (!isObject(entry) || !Array.isArray(entry.ids) || !entry.ids.every((x) => Number.isInteger(x))) {
    bad(where, `TemplateProcessing uses the special token ${JSON.stringify(name)}, which "special_tokens" does not define with "ids".`);
  }
  return entry.ids as number[];
}

/** The token around "$A" in a template list: ids before and after. */
function template(o: JSONObject, where: string): PostProcessor {
  const items = arr(o, 'single', where);
  const parts: (number[] | 'A')[] = items.map((item) => {
    const it = obj(item, where, 'a TemplateProcessing item');
    if (isObject(it.SpecialToken) && typeof it.SpecialToken.id === 'string') return specialIds(o, it.SpecialToken.id, where);
    if (isObject(it.Sequence)) {
      if (it.Sequence.id !== 'A') bad(where, 'TemplateProcessing "single" may only use sequence A.');
      return 'A';
    }
    return bad(where, `TemplateProcessing item ${JSON.stringify(it)} is neither SpecialToken nor Sequence.`);
  });
  return (ids) => parts.flatMap((p) => (p === 'A' ? [...ids] : p));
}

/** A (token, id) pair of RobertaProcessing/BertProcessing. */
function pairId(v: unknown, key: string, where: string): number {
  if (!Array.isArray(v) || v.length !== 2 || !Number.isInteger(v[1])) bad(where, `"${key}" must be ["token", id].`);
  return v[1] as number;
}

/** Builds the post-processor of a tokenizer.json "post_processor" entry (null: none). */
export function buildPostProcessor(json: unknown, where: string): PostProcessor {
  if (json == null) return (ids) => [...ids];
  const o = obj(json, where, 'post_processor');
  const type = typeOf(o, where, 'post_processor');
  switch (type) {
    case 'TemplateProcessing':
      return template(o, where);
    case 'ByteLevel':
      return (ids) => [...ids]; // only adjusts offsets, which tinygpt does not return
    case 'Sequence': {
      const steps = arr(o, 'processors', where).map((p) => buildPostProcessor(p, where));
      return (ids) => steps.reduce<number[]>((acc, f) => f(acc), [...ids]);
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const cls = pairId(o.cls, 'cls', where);
      const sep = pairId(o.sep, 'sep', where);
      return (ids) => [cls, ...ids, sep];
    }
    default:
      return unsupported(where, 'post_processor', type, KNOWN);
  }
}

/**
 * transformers' Llama/Gemma tokenizers rebuild the post-processor from tokenizer_config.json's
 * add_bos_token / add_eos_token: [bos] + ids + [eos], each only when asked.
 */
export function bosEosProcessor(bos: number | undefined, eos: number | undefined): PostProcessor {
  return (ids) => [...(bos === undefined ? [] : [bos]), ...ids, ...(eos === undefined ? [] : [eos])];
}
