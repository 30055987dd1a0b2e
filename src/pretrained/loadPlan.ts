/**
 * What a model folder's config promises, checked against its weight files' headers before any
 * tensor is allocated. Browser-safe (no file system): Node's loaders and the web page share it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type GPTConfig, type ResolvedGPTConfig } from '../config/config.js';
import type { SafetensorsDtype } from '../io/safetensorsTypes.js';
import { transposeInto } from '../util/transpose.js';
import { fromHFConfig, isHFGPT2Config } from './hfGpt2Config.js';
import { fromHFLlamaConfig, isHFLlamaConfig } from './hfLlamaConfig.js';
import { canonicalHFName, hfRules, isUnusedHFTensor, type NameRule } from './hfLlamaNames.js';
import { weightShapes } from './weightShapes.js';

/** The folder formats a config.json can be in. */
export type FolderFormat = 'tinygpt' | 'hf-gpt2' | 'llama' | 'gemma3';

/** A config dimension and the tensor axis that must equal it, to name the field a lying config got wrong. */
interface FieldCheck {
  readonly field: string;
  readonly value: number;
  readonly tensor: string;
  readonly axis: number;
}

/** How a folder's tensors become a model's weights. */
export interface LoadPlan {
  readonly config: ResolvedGPTConfig;
  readonly format: FolderFormat;
  /** One rule per model weight, in GPT.namedWeights() order. */
  readonly rules: readonly NameRule[];
  /** Every tensor the files must hold (canonical names) and its shape. */
  readonly sources: ReadonlyMap<string, readonly number[]>;
  readonly fieldChecks: readonly FieldCheck[];
  /** The config key for the layer count, and the pattern of a layer-indexed tensor name. */
  readonly layers: { readonly field: string; readonly value: number; readonly pattern: RegExp };
  /** A file's tensor name in the canonical form of `sources`, or null for tensors to skip. */
  canonical(name: string): string | null;
}

/** Largest context a loader accepts: the RoPE and position tables grow with it. */
const MAX_BLOCK = 1 << 20;

/** Reads config.json's content: which format, which model, and what the weight files must hold. */
export function planLoad(json: Record<string, unknown>, file = 'config.json'): LoadPlan {
  if (isHFLlamaConfig(json)) {
    const { family, config } = fromHFLlamaConfig(json, file);
    const rules = hfRules(config, family);
    const shapes = weightShapes(config);
    const sources = new Map<string, readonly number[]>();
    for (const r of rules) {
      const shape = shapes.get(r.tinygpt);
      if (!shape) throw new Error(`internal: the HF name table has ${r.tinygpt}, which the model does not.`);
      sources.set(r.hf[0], r.op === 'linear' ? [shape[1], shape[0]] : shape);
    }
    if (rules.length !== shapes.size) throw new Error(`internal: the HF name table covers ${rules.length} of the model's ${shapes.size} weights.`);
    const c = config;
    const text = json.model_type === 'gemma3' ? 'text_config.' : '';
    return {
      config,
      format: family,
      rules,
      sources,
      fieldChecks: [
        { field: `${text}vocab_size`, value: c.vocabSize, tensor: 'model.embed_tokens.weight', axis: 0 },
        { field: `${text}hidden_size`, value: c.nEmbd, tensor: 'model.embed_tokens.weight', axis: 1 },
        { field: `${text}intermediate_size`, value: c.ffnHidden, tensor: 'model.layers.0.mlp.down_proj.weight', axis: 1 },
        { field: `${text}num_attention_heads × head_dim`, value: c.nHead * c.headDim, tensor: 'model.layers.0.self_attn.q_proj.weight', axis: 0 },
        { field: `${text}num_key_value_heads × head_dim`, value: c.nKvHead * c.headDim, tensor: 'model.layers.0.self_attn.k_proj.weight', axis: 0 },
      ],
      layers: { field: `${text}num_hidden_layers`, value: c.nLayer, pattern: /^model\.layers\.(\d+)\./ },
      canonical: (name) => {
        const n = canonicalHFName(name);
        if (isUnusedHFTensor(n)) return null;
        if (c.tieEmbeddings && n === 'lm_head.weight') return null; // a tied head is the embedding; some files store a copy
        return n;
      },
    };
  }
  const hf = isHFGPT2Config(json);
  const config = hf ? fromHFConfig(json, file) : resolveConfig((json.model ?? json) as GPTConfig);
  if (config.blockSize > MAX_BLOCK) {
    throw new Error(`${file}: "${hf ? 'n_positions' : 'blockSize'}" is ${config.blockSize}, above the sane bound ${MAX_BLOCK}; the config is corrupt.`);
  }
  const shapes = weightShapes(config);
  const rules: NameRule[] = [...shapes.keys()].map((n) => ({ tinygpt: n, hf: [n], op: 'copy' }));
  const f = hf ? { vocab: 'vocab_size', width: 'n_embd', layers: 'n_layer', pos: 'n_positions', ffn: 'n_inner' } : { vocab: 'vocabSize', width: 'nEmbd', layers: 'nLayer', pos: 'blockSize', ffn: 'ffnHidden' };
  const ffnTensor = ['h.0.mlp.c_fc.weight', 'h.0.mlp.up_proj.weight'].find((n) => shapes.has(n)) ?? '';
  return {
    config,
    format: hf ? 'hf-gpt2' : 'tinygpt',
    rules,
    sources: shapes,
    fieldChecks: [
      { field: f.vocab, value: config.vocabSize, tensor: 'wte.weight', axis: 0 },
      { field: f.width, value: config.nEmbd, tensor: 'wte.weight', axis: 1 },
      { field: f.pos, value: config.blockSize, tensor: 'wpe.weight', axis: 0 },
      { field: f.ffn, value: config.ffnHidden, tensor: ffnTensor, axis: 1 },
    ],
    layers: { field: f.layers, value: config.nLayer, pattern: /^h\.(\d+)\./ },
    canonical: (name) => {
      const n = name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
      if (/^h\.\d+\.attn\.(masked_)?bias$/.test(n)) return null; // GPT-2's causal-mask buffers
      if (config.tieEmbeddings && n === 'lm_head.weight') return null;
      return n;
    },
  };
}

/** A tensor's dtype and shape as a header states them. */
export interface HeaderEntry {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
}

const FLOAT: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16'];

const list = (xs: string[], what: string) => (xs.length ? `${what} ${xs.slice(0, 4).join(', ')}${xs.length > 4 ? ` (+${xs.length - 4} more)` : ''}` : '');

/**
 * Checks the headers of a folder's weights against its config: every expected tensor present
 * with its shape and a float dtype, nothing unexpected. Names the config field a mismatch points
 * at when it can. Returns canonical name → the name in the file. Reads and allocates nothing.
 */
export function checkHeaders(plan: LoadPlan, entries: ReadonlyMap<string, HeaderEntry>, label: string, configFile = 'config.json'): Map<string, string> {
  const byCanonical = new Map<string, string>();
  const extra: string[] = [];
  for (const name of entries.keys()) {
    const c = plan.canonical(name);
    if (c === null) continue;
    if (!plan.sources.has(c)) extra.push(name);
    else byCanonical.set(c, name);
  }
  const get = (c: string) => {
    const n = byCanonical.get(c);
    return n === undefined ? undefined : entries.get(n);
  };
  // Name the config field first: a lying config.json is the usual cause.
  for (const chk of plan.fieldChecks) {
    const e = get(chk.tensor);
    if (e && e.shape.length > chk.axis && e.shape[chk.axis] !== chk.value) {
      throw new Error(
        `${configFile}: "${chk.field}" is ${chk.value} but the weights have ${e.shape[chk.axis]} (${chk.tensor} is [${e.shape.join(', ')}] in ${label}); config.json does not belong to these weights.`,
      );
    }
  }
  const indices = [...entries.keys()].map((n) => plan.layers.pattern.exec(plan.canonical(n) ?? '')?.[1]).filter((x): x is string => x !== undefined);
  const fileLayers = indices.length ? Math.max(...indices.map(Number)) + 1 : 0;
  if (fileLayers !== plan.layers.value && indices.length > 0) {
    throw new Error(`${configFile}: "${plan.layers.field}" is ${plan.layers.value} but ${label} holds ${fileLayers} layers; config.json does not belong to these weights.`);
  }
  const missing = [...plan.sources.keys()].filter((c) => !byCanonical.has(c));
  const wrong: string[] = [];
  for (const [c, shape] of plan.sources) {
    const e = get(c);
    if (!e) continue;
    if (e.shape.join(',') !== shape.join(',')) wrong.push(`${byCanonical.get(c)}: file [${e.shape.join(', ')}] vs config [${shape.join(', ')}]`);
    else if (!FLOAT.includes(e.dtype)) wrong.push(`${byCanonical.get(c)}: dtype ${e.dtype}, expected F32, F16 or BF16`);
  }
  if (missing.length || extra.length || wrong.length) {
    const parts = [list(missing, 'missing'), list(extra, 'unexpected'), list(wrong, 'wrong')].filter(Boolean);
    throw new Error(`${label} does not fit ${configFile}: ${parts.join('; ')}. Check that config.json belongs to these weights.`);
  }
  return byCanonical;
}

/** HF (out, in) → tinygpt (in, out). */
function transposed(data: Float32Array, shape: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  transposeInto(data, 0, shape[0], shape[1], out, 0);
  return out;
}

/**
 * Copies the folder's tensors into the model's weights one at a time (reading each from the
 * files only when it is needed), converting per rule: linear weights transposed, Gemma's norm
 * gains γ = 1 + w. The model's variables are replaced in place.
 */
export async function fillModel(
  weights: ReadonlyMap<string, tf.Variable>,
  plan: LoadPlan,
  fileNames: ReadonlyMap<string, string>,
  read: (name: string) => Promise<Float32Array | Int32Array>,
): Promise<void> {
  for (const rule of plan.rules) {
    const v = weights.get(rule.tinygpt);
    if (!v) throw new Error(`internal: the model has no weight ${rule.tinygpt}.`);
    const src = rule.hf[0];
    const raw = await read(fileNames.get(src) ?? src);
    if (!(raw instanceof Float32Array)) throw new Error(`${src}: expected a float tensor.`);
    let data = raw;
    if (rule.op === 'linear') data = transposed(raw, plan.sources.get(src)!);
    else if (rule.op === 'norm' && plan.format === 'gemma3') for (let i = 0; i < data.length; i++) data[i] = 1 + data[i]; // γ = 1 + w, rounded to float32
    tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
  }
}
