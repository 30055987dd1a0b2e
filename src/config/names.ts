import type { ResolvedGPTConfig } from './config.js';
import { planModel, qkvWidth, type LayerPlan } from './plan.js';

/**
 * Weight names as data. Every tinygpt model names its tensors one way, whatever its layout
 * (the "canonical" names: GPT-2's, extended); this file is the one table from those names to the
 * names of other formats, which loaders and writers read instead of spelling names themselves.
 */

/** The parts of one layer, each a module path under `h.{i}.`. */
export const LAYER_SLOTS = {
  /** Norm before attention: t1 = N(x). */
  attnNorm: 'ln_1',
  /** Fused W_qkv (d, (A + 2G)·d_k): columns [q heads | k heads | v heads]. */
  qkv: 'attn.c_attn',
  /** RMSNorm gains over d_k of the query and key heads (qkNorm). */
  qNorm: 'attn.q_norm',
  kNorm: 'attn.k_norm',
  /** W^O (A·d_v, d). */
  attnOut: 'attn.c_proj',
  /** Norm of the attention output before the residual add (sandwich norms). */
  attnPostNorm: 'post_attn_norm',
  /** Norm before the FFN: t4 = N(t3). */
  mlpNorm: 'ln_2',
  /** FFN input projection (d, F): the gate branch when gated. */
  mlpIn: 'mlp.c_fc',
  /** FFN up branch (d, F), gated FFNs only. */
  mlpUp: 'mlp.c_up',
  /** FFN output projection (F, d). */
  mlpOut: 'mlp.c_proj',
  /** Norm of the FFN output before the residual add (sandwich norms). */
  mlpPostNorm: 'post_mlp_norm',
} as const;

/** A part of a layer. */
export type LayerSlot = keyof typeof LAYER_SLOTS;

/** The model-level parts. */
export const MODEL_SLOTS = { tokens: 'wte', positions: 'wpe', finalNorm: 'ln_f', head: 'lm_head' } as const;

/** A model-level part. */
export type ModelSlot = keyof typeof MODEL_SLOTS;

/** The module path of a layer's part: layerPath(3, 'qkv') = "h.3.attn.c_attn". */
export function layerPath(layer: number, slot: LayerSlot): string {
  return `h.${layer}.${LAYER_SLOTS[slot]}`;
}

/** The canonical name of a tensor: "<path>.weight" or "<path>.bias". */
export function tensorName(path: string, param: 'weight' | 'bias' = 'weight'): string {
  return `${path}.${param}`;
}

/** Which kind of module a slot is, for shapes and conversions. */
type SlotKind = 'norm' | 'headNorm' | 'linear';

const SLOT_KIND: Record<LayerSlot, SlotKind> = {
  attnNorm: 'norm',
  qkv: 'linear',
  qNorm: 'headNorm',
  kNorm: 'headNorm',
  attnOut: 'linear',
  attnPostNorm: 'norm',
  mlpNorm: 'norm',
  mlpIn: 'linear',
  mlpUp: 'linear',
  mlpOut: 'linear',
  mlpPostNorm: 'norm',
};

/** The parts layer l has, in module order. */
export function layerSlots(l: LayerPlan): LayerSlot[] {
  const slots: LayerSlot[] = ['attnNorm', 'qkv'];
  if (l.qkNorm) slots.push('qNorm', 'kNorm');
  slots.push('attnOut');
  if (l.postNorms) slots.push('attnPostNorm');
  slots.push('mlpNorm', 'mlpIn');
  if (l.gated) slots.push('mlpUp');
  slots.push('mlpOut');
  if (l.postNorms) slots.push('mlpPostNorm');
  return slots;
}

/** One canonical tensor a config implies: its name, shape and what it is. */
export interface CanonicalTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** The layer it belongs to, or undefined for model-level tensors. */
  readonly layer: number | undefined;
  readonly slot: LayerSlot | ModelSlot;
  readonly param: 'weight' | 'bias';
  /** Whether it is an RMSNorm gain (Gemma stores those as γ − 1). */
  readonly rmsGain: boolean;
}

/** (in, out) of a linear slot of layer l in a model of width d. */
function linearShape(l: LayerPlan, slot: LayerSlot, d: number): [number, number] {
  switch (slot) {
    case 'qkv':
      return [d, qkvWidth(l)];
    case 'attnOut':
      return [l.nHead * l.headDim, d];
    case 'mlpOut':
      return [l.ffnHidden, d];
    default:
      return [d, l.ffnHidden]; // mlpIn, mlpUp
  }
}

/**
 * Every tensor a model of config c holds, in the order GPT.namedWeights lists them, with shapes:
 * what a loader checks a file's header against before it allocates anything.
 */
export function canonicalTensors(c: ResolvedGPTConfig): CanonicalTensor[] {
  const plan = planModel(c);
  const d = c.nEmbd;
  const rms = c.norm === 'rmsnorm';
  const out: CanonicalTensor[] = [];
  const add = (name: string, shape: number[], layer: number | undefined, slot: LayerSlot | ModelSlot, param: 'weight' | 'bias', rmsGain = false) =>
    out.push({ name, shape, layer, slot, param, rmsGain });
  const norm = (path: string, layer: number | undefined, slot: LayerSlot | ModelSlot) => {
    add(tensorName(path), [d], layer, slot, 'weight', rms);
    if (!rms && c.bias) add(tensorName(path, 'bias'), [d], layer, slot, 'bias');
  };
  add('wte.weight', [c.vocabSize, d], undefined, 'tokens', 'weight');
  if (plan.learnedPositions) add('wpe.weight', [c.blockSize, d], undefined, 'positions', 'weight');
  for (const l of plan.layers) {
    for (const slot of layerSlots(l)) {
      const path = layerPath(l.index, slot);
      const kind = SLOT_KIND[slot];
      if (kind === 'norm') norm(path, l.index, slot);
      else if (kind === 'headNorm') add(tensorName(path), [l.headDim], l.index, slot, 'weight', true);
      else {
        const [nIn, nOut] = linearShape(l, slot, d);
        add(tensorName(path), [nIn, nOut], l.index, slot, 'weight');
        if (l.bias) add(tensorName(path, 'bias'), [nOut], l.index, slot, 'bias');
      }
    }
  }
  norm('ln_f', undefined, 'finalNorm');
  if (!plan.tiedHead) add('lm_head.weight', [c.vocabSize, d], undefined, 'head', 'weight');
  return out;
}

/** Formats whose names the table knows. */
export type WeightFormat =
  /** tinygpt's own checkpoints: the canonical names. */
  | 'tinygpt'
  /** tinygpt checkpoints of Llama/Gemma-style models written before the names were unified (q_proj, final_norm, ...). */
  | 'tinygpt-v1'
  /** Hugging Face GPT-2 (GPT2LMHeadModel): Conv1D weights stored (in, out), as tinygpt does. */
  | 'hf-gpt2'
  /** Hugging Face Llama (LlamaForCausalLM): nn.Linear weights stored (out, in). */
  | 'hf-llama'
  /** Hugging Face Gemma 3 (Gemma3ForCausalLM): Llama's layout, sandwich norms, RMSNorm gains stored as γ − 1. */
  | 'hf-gemma';

/** How one canonical tensor is stored in another format. */
export interface StoredTensor {
  readonly canonical: string;
  /** The stored tensor(s); several are concatenated along the canonical output axis (c_attn = q | k | v). */
  readonly stored: readonly string[];
  /** Output widths of the stored parts, in order (one entry when not split). */
  readonly widths: readonly number[];
  /** Stored matrices are (out, in), the transpose of the canonical (in, out). */
  readonly transposed: boolean;
  /** stored = canonical − offset (1 for Gemma's RMSNorm gains, else 0). */
  readonly offset: number;
}

/** Llama/Gemma (and tinygpt-v1) module names of the layer parts, relative to the layer. */
function llamaStyleName(slot: LayerSlot, l: LayerPlan, format: WeightFormat): string | readonly string[] {
  const v1 = format === 'tinygpt-v1';
  const attn = v1 ? 'attn' : 'self_attn';
  switch (slot) {
    case 'attnNorm':
      return v1 ? 'pre_attention_norm' : 'input_layernorm';
    case 'qkv':
      return ['q_proj', 'k_proj', 'v_proj'].map((p) => `${attn}.${p}`);
    case 'qNorm':
      return `${attn}.q_norm`;
    case 'kNorm':
      return `${attn}.k_norm`;
    case 'attnOut':
      return `${attn}.o_proj`;
    case 'attnPostNorm':
      return v1 ? 'post_attention_norm' : 'post_attention_layernorm';
    // HF Llama calls its pre-FFN norm post_attention_layernorm; with sandwich norms that name is the post-attention one.
    case 'mlpNorm':
      return v1 ? 'pre_feedforward_norm' : l.postNorms ? 'pre_feedforward_layernorm' : 'post_attention_layernorm';
    case 'mlpIn':
      return l.gated ? 'mlp.gate_proj' : 'mlp.up_proj';
    case 'mlpUp':
      return 'mlp.up_proj';
    case 'mlpOut':
      return 'mlp.down_proj';
    case 'mlpPostNorm':
      return v1 ? 'post_feedforward_norm' : 'post_feedforward_layernorm';
  }
}

/** The stored name(s) of a canonical tensor in a format (before splitting into widths). */
function storedNames(t: CanonicalTensor, l: LayerPlan | undefined, format: WeightFormat): readonly string[] {
  if (format === 'tinygpt') return [t.name];
  if (format === 'hf-gpt2') return [t.slot === 'head' ? t.name : `transformer.${t.name}`];
  const hf = format !== 'tinygpt-v1';
  if (l === undefined) {
    const model: Record<ModelSlot, string> = hf
      ? { tokens: 'model.embed_tokens', positions: 'wpe', finalNorm: 'model.norm', head: 'lm_head' }
      : { tokens: 'wte', positions: 'wpe', finalNorm: 'final_norm', head: 'lm_head' };
    return [`${model[t.slot as ModelSlot]}.${t.param}`];
  }
  const prefix = hf ? `model.layers.${l.index}.` : `h.${l.index}.`;
  const local = llamaStyleName(t.slot as LayerSlot, l, format);
  return (typeof local === 'string' ? [local] : local).map((n) => `${prefix}${n}.${t.param}`);
}

/** The whole table for config c in `format`: one row per canonical tensor, in canonical order. */
export function weightTable(c: ResolvedGPTConfig, format: WeightFormat): StoredTensor[] {
  const plan = planModel(c);
  return canonicalTensors(c).map((t) => {
    const l = t.layer === undefined ? undefined : plan.layers[t.layer];
    const stored = storedNames(t, l, format);
    const outWidth = t.shape[t.shape.length - 1];
    const split = stored.length > 1 && l !== undefined;
    const widths = split ? [l.nHead * l.headDim, l.nKvHead * l.headDim, l.nKvHead * l.headDim] : [outWidth];
    const transposed = (format === 'hf-llama' || format === 'hf-gemma') && t.shape.length === 2 && t.slot !== 'tokens' && t.slot !== 'head';
    return { canonical: t.name, stored, widths, transposed, offset: format === 'hf-gemma' && t.rmsGain ? 1 : 0 };
  });
}
