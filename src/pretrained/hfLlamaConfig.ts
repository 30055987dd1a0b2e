import { resolveConfig, type GPTConfig, type ResolvedGPTConfig } from '../config/config.js';

/** The Hugging Face architectures besides GPT-2 that tinygpt reads and writes. */
export type HFFamily = 'llama' | 'gemma3';

/** model_type values of config.json that {@link fromHFLlamaConfig} reads. */
const MODEL_TYPES = ['llama', 'gemma3_text', 'gemma3'] as const;

/** True when a config.json is a Hugging Face Llama or Gemma 3 (text or multimodal) config. */
export function isHFLlamaConfig(json: Record<string, unknown>): boolean {
  return (MODEL_TYPES as readonly unknown[]).includes(json.model_type);
}

/**
 * Upper bounds far above any released model of these families; a config beyond them is corrupt
 * or hostile, and is refused before anything is allocated.
 */
const BOUNDS: Readonly<Record<string, number>> = {
  vocab_size: 1 << 22,
  hidden_size: 1 << 16,
  intermediate_size: 1 << 20,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 4096,
  // RoPE tables hold max_position_embeddings × head_dim floats per base.
  max_position_embeddings: 1 << 20,
  sliding_window: 1 << 20,
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class Reader {
  constructor(
    readonly json: Record<string, unknown>,
    readonly file: string,
  ) {}

  fail(key: string, msg: string): never {
    throw new Error(`${this.file}: "${key}" ${msg}`);
  }

  int(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (v === undefined) this.fail(key, 'is missing; it is required for this model_type.');
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) this.fail(key, `must be a positive integer, got ${JSON.stringify(v)}.`);
    const max = BOUNDS[key];
    if (max !== undefined && v > max) this.fail(key, `is ${v}, above the sane bound ${max}; the config is corrupt or does not belong to these weights.`);
    return v;
  }

  num(key: string, fallback: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(key, `must be a positive number, got ${JSON.stringify(v)}.`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(v)}.`);
    return v;
  }

  /** A field tinygpt has no counterpart for: it must be absent or null (or equal `neutral`). */
  unsupported(key: string, why: string, neutral?: unknown): void {
    const v = this.json[key];
    if (v === undefined || v === null || (neutral !== undefined && v === neutral)) return;
    this.fail(key, `is ${JSON.stringify(v)}: ${why} tinygpt cannot run this model as configured.`);
  }
}

/** The linear RoPE factor of a rope_scaling / rope_parameters object (1 for none); any other type is an error. */
function ropeFactor(r: Reader, key: string, value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (!isObject(value)) r.fail(key, `must be an object or null, got ${JSON.stringify(value)}.`);
  const type = value.rope_type ?? value.type ?? 'default';
  if (type === 'default') return 1;
  if (type !== 'linear') r.fail(`${key}.rope_type`, `is ${JSON.stringify(type)}; tinygpt implements RoPE scaling of type "linear" only.`);
  const f = value.factor;
  if (typeof f !== 'number' || !Number.isFinite(f) || f < 1) r.fail(`${key}.factor`, `must be a number >= 1, got ${JSON.stringify(f)}.`);
  return f;
}

/**
 * Gemma 3's layer kinds as tinygpt's pattern: k sliding-window layers then one global layer,
 * repeated (layer i global iff (i + 1) % (k + 1) = 0). From layer_types when given, else from
 * sliding_window_pattern (HF's default 6: five local, one global).
 */
function layerPattern(r: Reader, nLayer: number): number {
  const types = r.json.layer_types;
  let local: boolean[];
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || types.length !== nLayer || !types.every((t) => t === 'sliding_attention' || t === 'full_attention')) {
      r.fail('layer_types', `must list "sliding_attention" or "full_attention" for each of the ${nLayer} layers.`);
    }
    local = types.map((t) => t === 'sliding_attention');
  } else {
    const p = r.int('sliding_window_pattern', 6);
    local = Array.from({ length: nLayer }, (_, i) => (i + 1) % p !== 0);
  }
  if (local.every((l) => !l)) return 0;
  if (local.every((l) => l)) return nLayer;
  const k = local.indexOf(false);
  if (!local.every((l, i) => l === ((i + 1) % (k + 1) !== 0))) {
    r.fail(
      'layer_types',
      `is ${local.map((l) => (l ? 'S' : 'F')).join('')} (S sliding, F full); tinygpt repeats k sliding layers then one full layer (here k = ${k}).`,
    );
  }
  return k;
}

/** What a Llama or Gemma 3 config.json maps to. */
export interface HFModelConfig {
  readonly family: HFFamily;
  readonly config: ResolvedGPTConfig;
}

/**
 * Maps a Hugging Face config.json (model_type llama, gemma3_text, or gemma3 with text_config) to
 * a tinygpt config. Every field tinygpt cannot honour (softcapping, other RoPE scalings, biases
 * on only part of the layers, unknown activations, bidirectional attention) is an error naming it.
 */
export function fromHFLlamaConfig(json: Record<string, unknown>, file = 'config.json'): HFModelConfig {
  let text = json;
  if (json.model_type === 'gemma3') {
    if (!isObject(json.text_config)) throw new Error(`${file}: "text_config" must be an object for model_type "gemma3" (the text model's config).`);
    // Gemma3Config keeps tie_word_embeddings at the top level; text_config may repeat it.
    text = { tie_word_embeddings: json.tie_word_embeddings, ...json.text_config, model_type: 'gemma3_text' };
  }
  const r = new Reader(text, file);
  const gemma = text.model_type === 'gemma3_text';
  const nEmbd = r.int('hidden_size');
  const nHead = r.int('num_attention_heads');
  const nLayer = r.int('num_hidden_layers');
  const headDim = r.int('head_dim', gemma ? 256 : nEmbd / nHead);
  const act = text.hidden_activation ?? text.hidden_act ?? (gemma ? 'gelu_pytorch_tanh' : 'silu');
  const actKey = text.hidden_activation !== undefined ? 'hidden_activation' : 'hidden_act';
  const wantAct = gemma ? ['gelu_pytorch_tanh', 'gelu_new', 'gelu_fast'] : ['silu', 'swish'];
  if (!wantAct.includes(String(act))) {
    r.fail(actKey, `is ${JSON.stringify(act)}; tinygpt runs ${gemma ? 'Gemma with the tanh GeLU (gelu_pytorch_tanh)' : 'Llama with SiLU (SwiGLU)'} only.`);
  }
  r.unsupported('attn_logit_softcapping', 'attention logit softcapping is not implemented;');
  r.unsupported('final_logit_softcapping', 'final logit softcapping is not implemented;');
  r.unsupported('use_bidirectional_attention', 'bidirectional attention is not implemented;', false);
  r.unsupported('mlp_bias', 'differs from attention_bias: tinygpt puts biases on every linear layer or none;', r.json.attention_bias ?? false);
  const attentionBias = r.bool('attention_bias', false);
  if (gemma && attentionBias) r.fail('attention_bias', 'is true, but Gemma\'s MLP has no biases and tinygpt puts biases on every linear layer or none.');

  // RoPE: rope_theta and rope_scaling (transformers 4.x) or rope_parameters (5.x; per layer kind for Gemma 3).
  const params = text.rope_parameters;
  const global = isObject(params) && isObject(params.full_attention) ? params.full_attention : params;
  const local = isObject(params) && isObject(params.sliding_attention) ? params.sliding_attention : undefined;
  const thetaOf = (o: unknown, fallback: number) => (isObject(o) && typeof o.rope_theta === 'number' ? o.rope_theta : fallback);
  const ropeTheta = thetaOf(global, r.num('rope_theta', gemma ? 1_000_000 : 10_000));
  const ropeLocalTheta = thetaOf(local, r.num('rope_local_base_freq', 10_000));
  const ropeScale = params !== undefined && params !== null ? ropeFactor(r, 'rope_parameters', global) : ropeFactor(r, 'rope_scaling', text.rope_scaling);
  if (local !== undefined && ropeFactor(r, 'rope_parameters.sliding_attention', local) !== 1) {
    r.fail('rope_parameters.sliding_attention', 'scales the local layers\' RoPE; tinygpt scales the global layers only (as Gemma 3 does).');
  }

  let slidingWindow = 0;
  let localGlobalPattern = 0;
  // Gemma 3 scales scores by query_pre_attn_scalar^(−1/2) instead of head_dim^(−1/2).
  const attnScale = gemma ? 1 / Math.sqrt(r.num('query_pre_attn_scalar', headDim)) : 1 / Math.sqrt(headDim);
  if (gemma) {
    localGlobalPattern = layerPattern(r, nLayer);
    if (localGlobalPattern > 0) slidingWindow = r.int('sliding_window');
  }
  const config: GPTConfig = {
    vocabSize: r.int('vocab_size'),
    blockSize: r.int('max_position_embeddings', gemma ? 131_072 : 2048),
    nLayer,
    nHead,
    nKvHead: r.int('num_key_value_heads', nHead),
    nEmbd,
    headDim,
    ffnHidden: r.int('intermediate_size'),
    activation: gemma ? 'geglu' : 'swiglu',
    norm: 'rmsnorm',
    position: 'rope',
    ropeTheta,
    ropeLocalTheta: gemma ? ropeLocalTheta : ropeTheta,
    layerNormEps: r.num('rms_norm_eps', 1e-6),
    bias: attentionBias,
    tieEmbeddings: r.bool('tie_word_embeddings', gemma),
    qkNorm: gemma,
    sandwichNorm: gemma,
    scaleEmbeddings: gemma,
    slidingWindow,
    localGlobalPattern,
    dropout: 0,
    attnScale,
    // HF's linear scaling divides positions by the factor (global layers only, as in Gemma 3).
    ropeScale,
  };
  if (nHead % (config.nKvHead ?? 1) !== 0) r.fail('num_key_value_heads', `(${config.nKvHead}) must divide num_attention_heads (${nHead}).`);
  return { family: gemma ? 'gemma3' : 'llama', config: resolveConfig(config) };
}

/** The family of Hugging Face architecture that holds config c, or why none does. */
export function hfFamilyOf(c: ResolvedGPTConfig): HFFamily {
  const common: Array<[boolean, string]> = [
    [c.norm === 'rmsnorm', 'norm "rmsnorm"'],
    [c.position === 'rope', 'position "rope"'],
  ];
  const gemma: Array<[boolean, string]> = [
    ...common,
    [c.activation === 'geglu', 'activation "geglu"'],
    [c.qkNorm, 'qkNorm'],
    [c.sandwichNorm, 'sandwichNorm'],
    [c.scaleEmbeddings, 'scaleEmbeddings'],
    [!c.bias, 'bias false'],
  ];
  const llama: Array<[boolean, string]> = [
    ...common,
    [c.activation === 'swiglu', 'activation "swiglu"'],
    [!c.qkNorm, 'no qkNorm'],
    [!c.sandwichNorm, 'no sandwichNorm'],
    [!c.scaleEmbeddings, 'no scaleEmbeddings'],
    [c.slidingWindow === 0, 'slidingWindow 0'],
  ];
  if (gemma.every(([ok]) => ok)) return 'gemma3';
  if (llama.every(([ok]) => ok)) return 'llama';
  const missing = (list: Array<[boolean, string]>) => list.filter(([ok]) => !ok).map(([, what]) => what).join(', ');
  throw new Error(
    `format "hf" holds GPT-2, Llama or Gemma 3 models; this config fits none (Llama would need ${missing(llama)}; Gemma 3 would need ${missing(gemma)}): save with format "tinygpt".`,
  );
}

/** Hugging Face's config.json for a Llama- or Gemma-3-shaped tinygpt config. */
export function toHFLlamaConfig(c: ResolvedGPTConfig): { family: HFFamily; json: Record<string, unknown> } {
  const family = hfFamilyOf(c);
  const shared = {
    vocab_size: c.vocabSize,
    hidden_size: c.nEmbd,
    intermediate_size: c.ffnHidden,
    num_hidden_layers: c.nLayer,
    num_attention_heads: c.nHead,
    num_key_value_heads: c.nKvHead,
    head_dim: c.headDim,
    max_position_embeddings: c.blockSize,
    rms_norm_eps: c.layerNormEps,
    rope_theta: c.ropeTheta,
    attention_bias: c.bias,
    attention_dropout: 0,
    tie_word_embeddings: c.tieEmbeddings,
    torch_dtype: 'float32',
  };
  const ropeScaling = c.ropeScale !== 1 ? { rope_type: 'linear', factor: c.ropeScale } : null;
  if (family === 'llama') {
    return { family, json: { architectures: ['LlamaForCausalLM'], model_type: 'llama', ...shared, hidden_act: 'silu', mlp_bias: c.bias, rope_scaling: ropeScaling } };
  }
  const k = c.slidingWindow > 0 ? c.localGlobalPattern : 0;
  const layerTypes = Array.from({ length: c.nLayer }, (_, i) => (k > 0 && (i + 1) % (k + 1) !== 0 ? 'sliding_attention' : 'full_attention'));
  return {
    family,
    json: {
      architectures: ['Gemma3ForCausalLM'],
      model_type: 'gemma3_text',
      ...shared,
      hidden_activation: 'gelu_pytorch_tanh',
      rope_local_base_freq: c.ropeLocalTheta,
      rope_scaling: ropeScaling,
      // HF needs an integer window even with no sliding layers; layer_types says none uses it then.
      sliding_window: c.slidingWindow > 0 ? c.slidingWindow : c.blockSize,
      sliding_window_pattern: k > 0 ? k + 1 : c.nLayer + 1,
      layer_types: layerTypes,
      // attnScale = s^(−1/2); the default 1/√head_dim gives s = head_dim exactly.
      query_pre_attn_scalar: Math.abs(c.attnScale * Math.sqrt(c.headDim) - 1) < 1e-12 ? c.headDim : 1 / (c.attnScale * c.attnScale),
      attn_logit_softcapping: null,
      final_logit_softcapping: null,
    },
  };
}
