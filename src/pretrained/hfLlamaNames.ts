import type { ResolvedGPTConfig } from '../config/config.js';

/**
 * The weight-name table between Hugging Face's Llama / Gemma 3 checkpoints and tinygpt, as data.
 * (Until src/config/names.ts lands with the canonical names, the tinygpt side is GPT.namedWeights()'s
 * current decoder-layout names.)
 *
 * Conversions:
 *  - 'linear': HF's nn.Linear stores W (out, in) and computes y = x·Wᵀ; tinygpt stores (in, out)
 *    and computes y = x·W, so the matrix is transposed (several HF parts would be concatenated
 *    along tinygpt's columns, in order).
 *  - 'norm': an RMSNorm gain. Llama stores γ itself; Gemma stores w with y = x/rms(x) · (1 + w),
 *    so γ = 1 + w on load and w = γ − 1 on save.
 *  - 'copy': same layout on both sides (embeddings (V, d), biases).
 */
export type Conversion = 'linear' | 'norm' | 'copy';

/** HF families whose names this table covers. */
export type HFFamily = 'llama' | 'gemma3';

/** One row: a tinygpt weight and the HF tensor(s) it is made of. */
export interface NameRule {
  readonly tinygpt: string;
  readonly hf: readonly string[];
  readonly op: Conversion;
}

/** When a row applies: always, or only with the config option it names. */
type Condition = 'always' | 'bias' | 'qkNorm' | 'sandwich' | 'gated' | 'untied';

/**
 * Per-layer rows (under h.{i}. and model.layers.{i}.): tinygpt name, HF Llama name, HF Gemma 3 name,
 * conversion, condition. Llama's post_attention_layernorm is the norm before the MLP; Gemma 3 has
 * four norms per layer, and its post_attention_layernorm is the one after attention.
 */
const LAYER: ReadonlyArray<readonly [string, string | null, string | null, Conversion, Condition]> = [
  ['pre_attention_norm.weight', 'input_layernorm.weight', 'input_layernorm.weight', 'norm', 'always'],
  ['attn.q_proj.weight', 'self_attn.q_proj.weight', 'self_attn.q_proj.weight', 'linear', 'always'],
  ['attn.q_proj.bias', 'self_attn.q_proj.bias', 'self_attn.q_proj.bias', 'copy', 'bias'],
  ['attn.k_proj.weight', 'self_attn.k_proj.weight', 'self_attn.k_proj.weight', 'linear', 'always'],
  ['attn.k_proj.bias', 'self_attn.k_proj.bias', 'self_attn.k_proj.bias', 'copy', 'bias'],
  ['attn.v_proj.weight', 'self_attn.v_proj.weight', 'self_attn.v_proj.weight', 'linear', 'always'],
  ['attn.v_proj.bias', 'self_attn.v_proj.bias', 'self_attn.v_proj.bias', 'copy', 'bias'],
  ['attn.o_proj.weight', 'self_attn.o_proj.weight', 'self_attn.o_proj.weight', 'linear', 'always'],
  ['attn.o_proj.bias', 'self_attn.o_proj.bias', 'self_attn.o_proj.bias', 'copy', 'bias'],
  ['attn.q_norm.weight', 'self_attn.q_norm.weight', 'self_attn.q_norm.weight', 'norm', 'qkNorm'],
  ['attn.k_norm.weight', 'self_attn.k_norm.weight', 'self_attn.k_norm.weight', 'norm', 'qkNorm'],
  ['post_attention_norm.weight', null, 'post_attention_layernorm.weight', 'norm', 'sandwich'],
  ['pre_feedforward_norm.weight', 'post_attention_layernorm.weight', 'pre_feedforward_layernorm.weight', 'norm', 'always'],
  ['mlp.gate_proj.weight', 'mlp.gate_proj.weight', 'mlp.gate_proj.weight', 'linear', 'gated'],
  ['mlp.gate_proj.bias', 'mlp.gate_proj.bias', 'mlp.gate_proj.bias', 'copy', 'bias'],
  ['mlp.up_proj.weight', 'mlp.up_proj.weight', 'mlp.up_proj.weight', 'linear', 'always'],
  ['mlp.up_proj.bias', 'mlp.up_proj.bias', 'mlp.up_proj.bias', 'copy', 'bias'],
  ['mlp.down_proj.weight', 'mlp.down_proj.weight', 'mlp.down_proj.weight', 'linear', 'always'],
  ['mlp.down_proj.bias', 'mlp.down_proj.bias', 'mlp.down_proj.bias', 'copy', 'bias'],
  ['post_feedforward_norm.weight', null, 'post_feedforward_layernorm.weight', 'norm', 'sandwich'],
];

/** Rows outside the layers. */
const TOP: ReadonlyArray<readonly [string, string, Conversion, Condition]> = [
  ['wte.weight', 'model.embed_tokens.weight', 'copy', 'always'],
  ['final_norm.weight', 'model.norm.weight', 'norm', 'always'],
  ['lm_head.weight', 'lm_head.weight', 'copy', 'untied'],
];

function holds(cond: Condition, c: ResolvedGPTConfig): boolean {
  switch (cond) {
    case 'always':
      return true;
    case 'bias':
      return c.bias;
    case 'qkNorm':
      return c.qkNorm;
    case 'sandwich':
      return c.sandwichNorm;
    case 'gated':
      return c.activation === 'swiglu' || c.activation === 'geglu';
    case 'untied':
      return !c.tieEmbeddings;
  }
}

/** Every row that applies to config c of the given family, in tinygpt's weight order. */
export function hfRules(c: ResolvedGPTConfig, family: HFFamily): NameRule[] {
  const rules: NameRule[] = [{ tinygpt: TOP[0][0], hf: [TOP[0][1]], op: TOP[0][2] }];
  for (let i = 0; i < c.nLayer; i++) {
    for (const [tg, llama, gemma, op, cond] of LAYER) {
      const hf = family === 'gemma3' ? gemma : llama;
      if (hf === null || !holds(cond, c)) continue;
      rules.push({ tinygpt: `h.${i}.${tg}`, hf: [`model.layers.${i}.${hf}`], op });
    }
  }
  for (const [tg, hf, op, cond] of TOP.slice(1)) if (holds(cond, c)) rules.push({ tinygpt: tg, hf: [hf], op });
  return rules;
}

/**
 * HF names as they appear in other checkpoints of the same model, mapped to the names above:
 * Gemma3ForConditionalGeneration (model_type "gemma3") keeps its text model under
 * language_model.model.* (older transformers) or model.language_model.* (newer).
 */
export function canonicalHFName(name: string): string {
  if (name.startsWith('model.language_model.')) return `model.${name.slice('model.language_model.'.length)}`;
  if (name.startsWith('language_model.model.')) return `model.${name.slice('language_model.model.'.length)}`;
  if (name.startsWith('language_model.lm_head.')) return name.slice('language_model.'.length);
  return name;
}

/** Tensors of a multimodal checkpoint that the text model does not use (skipped, not errors). */
export function isUnusedHFTensor(name: string): boolean {
  return /^(model\.)?(vision_tower|multi_modal_projector|vision_model|visual)\./.test(name) || /\.rotary_emb\.inv_freq$/.test(name);
}
