/**
 * What a model folder's config promises, checked against its weight files' headers before any
 * tensor is allocated, and the reading of the weights one table row at a time. The names and
 * conversions come from the weight-name table (src/config/names.ts). Browser-safe (no file
 * system): Node's loaders and the web page share it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type GPTConfig, type ResolvedGPTConfig } from '../config/config.js';
import { canonicalTensors, weightTable, type StoredTensor, type WeightFormat } from '../config/names.js';
import { toCanonical } from '../io/convert.js';
import type { SafetensorsDtype, TensorData } from '../io/safetensorsTypes.js';
import { fromHFConfig, isHFGPT2Config } from './hfGpt2Config.js';
import { fromHFLlamaConfig, isHFLlamaConfig } from './hfLlamaConfig.js';

/** A config dimension and the canonical tensor axis that must equal it (to name the field a lying config got wrong). */
interface FieldCheck {
  readonly field: string;
  readonly value: number;
  readonly canonical: string;
  /** Axis of the canonical (in, out) tensor; for a split row, of the part `part`. */
  readonly axis: number;
  readonly part?: number;
}

/** How a folder's tensors become a model's weights. */
export interface LoadPlan {
  readonly config: ResolvedGPTConfig;
  readonly format: WeightFormat;
  /** The name table's rows for this config and format, in GPT.namedWeights() order. */
  readonly rows: readonly StoredTensor[];
  /** Every stored tensor the files must hold, and its shape. */
  readonly sources: ReadonlyMap<string, readonly number[]>;
  readonly fieldChecks: readonly FieldCheck[];
  /** The config key for the layer count, and the pattern of a layer-indexed stored name. */
  readonly layers: { readonly field: string; readonly value: number; readonly pattern: RegExp };
  /** A file's tensor name as the table spells it, or null for tensors that are not weights of the model. */
  canonical(name: string): string | null;
}

/** Largest context a loader accepts: the RoPE and position tables grow with it. */
const MAX_BLOCK = 1 << 20;

/**
 * Multimodal Gemma 3 (model_type "gemma3") keeps its text model under language_model.model.*
 * (older transformers) or model.language_model.* (newer); the vision tower is not used.
 */
function hfTextName(name: string): string | null {
  if (/^(model\.)?(vision_tower|multi_modal_projector|vision_model)\./.test(name) || name.endsWith('.rotary_emb.inv_freq')) return null;
  if (name.startsWith('model.language_model.')) return `model.${name.slice('model.language_model.'.length)}`;
  if (name.startsWith('language_model.model.')) return `model.${name.slice('language_model.model.'.length)}`;
  if (name.startsWith('language_model.lm_head.')) return name.slice('language_model.'.length);
  return name;
}

/** Whether tensor names are tinygpt's Llama/Gemma-style names from before the name table (q_proj, final_norm, ...). */
function isLegacyTinygpt(names: readonly string[]): boolean {
  return names.includes('final_norm.weight') || names.some((k) => k.endsWith('.attn.q_proj.weight'));
}

/** The stored shapes of a table row's parts, from the canonical (in, out) or (n) shape. */
function partShapes(row: StoredTensor, shape: readonly number[]): number[][] {
  if (shape.length !== 2) return row.widths.map((w) => (shape.length === 1 ? [w] : [...shape]));
  return row.widths.map((w) => (row.transposed ? [w, shape[0]] : [shape[0], w]));
}

/**
 * Reads config.json's content (and the tensor names in the files, which tell tinygpt's current
 * names from its earlier ones): the format, the model config, and every tensor the files must hold.
 */
export function planLoad(json: Record<string, unknown>, fileNames: readonly string[], file = 'config.json'): LoadPlan {
  let config: ResolvedGPTConfig;
  let format: WeightFormat;
  let prefix = '';
  if (isHFLlamaConfig(json)) {
    const mapped = fromHFLlamaConfig(json, file);
    config = mapped.config;
    format = mapped.family === 'gemma3' ? 'hf-gemma' : 'hf-llama';
    if (json.model_type === 'gemma3') prefix = 'text_config.';
  } else if (isHFGPT2Config(json)) {
    config = fromHFConfig(json, file);
    format = 'hf-gpt2';
  } else {
    config = resolveConfig((json.model ?? json) as GPTConfig);
    format = isLegacyTinygpt(fileNames) ? 'tinygpt-v1' : 'tinygpt';
  }
  const hfGpt2 = format === 'hf-gpt2';
  const hfLlama = format === 'hf-llama' || format === 'hf-gemma';
  if (config.blockSize > MAX_BLOCK) {
    const key = hfLlama ? `${prefix}max_position_embeddings` : hfGpt2 ? 'n_positions' : 'blockSize';
    throw new Error(`${file}: "${key}" is ${config.blockSize}, above the sane bound ${MAX_BLOCK}; the config is corrupt.`);
  }
  const rows = weightTable(config, format);
  const shapes = new Map(canonicalTensors(config).map((t) => [t.name, t.shape]));
  const sources = new Map<string, readonly number[]>();
  for (const row of rows) partShapes(row, shapes.get(row.canonical)!).forEach((s, k) => sources.set(row.stored[k], s));
  const f = hfLlama
    ? { vocab: 'vocab_size', width: 'hidden_size', layers: 'num_hidden_layers', pos: '', ffn: 'intermediate_size', q: 'num_attention_heads × head_dim', kv: 'num_key_value_heads × head_dim' }
    : hfGpt2
      ? { vocab: 'vocab_size', width: 'n_embd', layers: 'n_layer', pos: 'n_positions', ffn: 'n_inner', q: '', kv: '' }
      : { vocab: 'vocabSize', width: 'nEmbd', layers: 'nLayer', pos: 'blockSize', ffn: 'ffnHidden', q: 'nHead × headDim', kv: 'nKvHead × headDim' };
  const c = config;
  const checks: FieldCheck[] = [
    { field: f.vocab, value: c.vocabSize, canonical: 'wte.weight', axis: 0 },
    { field: f.width, value: c.nEmbd, canonical: 'wte.weight', axis: 1 },
    { field: f.pos, value: c.blockSize, canonical: 'wpe.weight', axis: 0 },
    { field: f.ffn, value: c.ffnHidden, canonical: 'h.0.mlp.c_proj.weight', axis: 0 },
    { field: f.q, value: c.nHead * c.headDim, canonical: 'h.0.attn.c_attn.weight', axis: 1, part: 0 },
    { field: f.kv, value: c.nKvHead * c.headDim, canonical: 'h.0.attn.c_attn.weight', axis: 1, part: 1 },
  ];
  const tied = c.tieEmbeddings;
  return {
    config,
    format,
    rows,
    sources,
    fieldChecks: checks.filter((k) => k.field !== '').map((k) => ({ ...k, field: `${prefix}${k.field}` })),
    layers: { field: `${prefix}${f.layers}`, value: c.nLayer, pattern: hfLlama ? /^model\.layers\.(\d+)\./ : hfGpt2 ? /^transformer\.h\.(\d+)\./ : /^h\.(\d+)\./ },
    canonical: (name) => {
      let n: string | null = name;
      if (hfLlama) n = hfTextName(name);
      if (hfGpt2 && !name.startsWith('transformer.') && name !== 'lm_head.weight') n = `transformer.${name}`; // HF's gpt2 files omit the prefix
      if (n === null) return null;
      if (/^(transformer\.)?h\.\d+\.attn\.(masked_)?bias$/.test(n)) return null; // GPT-2's causal-mask buffers
      if (tied && n === 'lm_head.weight') return null; // a tied head is the embedding; some files store a copy
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
 * at when it can. Returns table name → the name in the file. Reads and allocates nothing.
 */
export function checkHeaders(plan: LoadPlan, entries: ReadonlyMap<string, HeaderEntry>, label: string, configFile = 'config.json'): Map<string, string> {
  const inFile = new Map<string, string>();
  const extra: string[] = [];
  for (const name of entries.keys()) {
    const c = plan.canonical(name);
    if (c === null) continue;
    if (!plan.sources.has(c)) extra.push(name);
    else inFile.set(c, name);
  }
  const get = (c: string) => {
    const n = inFile.get(c);
    return n === undefined ? undefined : entries.get(n);
  };
  // Name the config field first: a lying config.json is the usual cause.
  for (const chk of plan.fieldChecks) {
    const row = plan.rows.find((r) => r.canonical === chk.canonical);
    if (!row || (chk.part !== undefined && row.stored.length < 2)) continue;
    const stored = row.stored[chk.part ?? 0];
    const e = get(stored);
    const axis = row.transposed && e?.shape.length === 2 ? 1 - chk.axis : chk.axis;
    if (e && e.shape.length > axis && e.shape[axis] !== chk.value) {
      throw new Error(
        `${configFile}: "${chk.field}" is ${chk.value} but the weights have ${e.shape[axis]} (${inFile.get(stored)} is [${e.shape.join(', ')}] in ${label}); config.json does not belong to these weights.`,
      );
    }
  }
  const indices = [...entries.keys()].map((n) => plan.layers.pattern.exec(plan.canonical(n) ?? '')?.[1]).filter((x): x is string => x !== undefined);
  const fileLayers = indices.length ? Math.max(...indices.map(Number)) + 1 : 0;
  if (indices.length > 0 && fileLayers !== plan.layers.value) {
    throw new Error(`${configFile}: "${plan.layers.field}" is ${plan.layers.value} but ${label} holds ${fileLayers} layers; config.json does not belong to these weights.`);
  }
  const missing = [...plan.sources.keys()].filter((c) => !inFile.has(c));
  const wrong: string[] = [];
  for (const [c, shape] of plan.sources) {
    const e = get(c);
    if (!e) continue;
    if (e.shape.join(',') !== shape.join(',')) wrong.push(`${inFile.get(c)}: file [${e.shape.join(', ')}] vs config [${shape.join(', ')}]`);
    else if (!FLOAT.includes(e.dtype)) wrong.push(`${inFile.get(c)}: dtype ${e.dtype}, expected F32, F16 or BF16`);
  }
  if (missing.length || extra.length || wrong.length) {
    const parts = [list(missing, 'missing'), list(extra, 'unexpected'), list(wrong, 'wrong')].filter(Boolean);
    throw new Error(`${label} does not fit ${configFile}: ${parts.join('; ')}. Check that config.json belongs to these weights.`);
  }
  return inFile;
}

/**
 * Copies the folder's tensors into the model's weights one table row at a time, reading each
 * from the files only when needed and converting it with the table (io/convert.ts: (out, in)
 * matrices transposed, q/k/v joined into c_attn, Gemma's gains γ = 1 + w). The model's
 * variables are replaced in place.
 */
export async function fillModel(
  weights: ReadonlyMap<string, tf.Variable>,
  plan: LoadPlan,
  fileNames: ReadonlyMap<string, string>,
  read: (name: string) => Promise<Float32Array | Int32Array>,
  label = '<memory>',
): Promise<void> {
  for (const row of plan.rows) {
    const v = weights.get(row.canonical);
    if (!v) throw new Error(`internal: the model has no weight ${row.canonical}.`);
    const parts = new Map<string, TensorData>();
    for (const stored of row.stored) parts.set(stored, { shape: plan.sources.get(stored)!, data: await read(fileNames.get(stored) ?? stored) });
    const t = toCanonical(plan.config, plan.format, parts, label).tensors.get(row.canonical);
    if (!t) throw new Error(`internal: ${row.stored.join(', ')} gave no ${row.canonical}.`);
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape, 'float32')));
  }
}
