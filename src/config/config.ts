import { validateConfig } from './validate.js';

/** Activation of the feed-forward sublayer; 'swiglu' and 'geglu' are gated (two input branches). */
export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'swiglu' | 'geglu';

/** Normalization of the residual stream: LayerNorm (GPT-2) or RMSNorm (Llama, Gemma). */
export type NormKind = 'layernorm' | 'rmsnorm';

/** How positions enter the model: a learned table added to the embeddings, or rotary q/k (RoPE). */
export type PositionKind = 'learned' | 'rope';

/** What a user may pass: every field but vocabSize has a default, and the defaults give GPT-2's architecture. */
export interface GPTConfig {
  /** Number of distinct tokens; the LM head's output size. */
  readonly vocabSize: number;
  /** Longest context the model sees (learned positions, RoPE table and mask size). */
  readonly blockSize?: number;
  /** Number of transformer blocks. */
  readonly nLayer?: number;
  /** Query heads per block; must divide nEmbd unless headDim is given. */
  readonly nHead?: number;
  /** Width d of the residual stream. */
  readonly nEmbd?: number;
  /** Feed-forward activation: exact GeLU x·Φ(x), GPT-2's tanh GeLU, ReLU, SwiGLU or GeGLU (tanh GeLU gate). */
  readonly activation?: Activation;
  /** Hidden width of the feed-forward sublayer, per branch when gated (default 4·nEmbd; gated: 8/3·nEmbd rounded up to 8). */
  readonly ffnHidden?: number;
  /** Dropout probability on attention weights and residual branches, in [0, 1). */
  readonly dropout?: number;
  /** Whether linear layers and LayerNorms carry a bias (offset β); RMSNorm never has one. */
  readonly bias?: boolean;
  /** Share the token embedding matrix with the LM head (GPT-2 and Gemma do). */
  readonly tieEmbeddings?: boolean;
  /** Epsilon of every LayerNorm or RMSNorm. */
  readonly layerNormEps?: number;
  /** Seed for weight initialisation (and, in the trainer, for batches and dropout). */
  readonly seed?: number;
  /** Norm layers: 'layernorm' (default, GPT-2) or 'rmsnorm' (Llama, Gemma). */
  readonly norm?: NormKind;
  /** Positions: 'learned' table (default, GPT-2) or 'rope' rotations of q and k (Llama, Gemma). */
  readonly position?: PositionKind;
  /** RoPE base θ of global (full-attention) layers (default 10,000; Gemma 3: 1,000,000). */
  readonly ropeTheta?: number;
  /** RoPE base θ of sliding-window (local) layers (default ropeTheta; Gemma 3: 10,000). */
  readonly ropeLocalTheta?: number;
  /** Key/value heads (default nHead); fewer gives grouped-query attention, 1 multi-query. Must divide nHead. */
  readonly nKvHead?: number;
  /** Width of one attention head (default nEmbd / nHead); may differ from it (Gemma 3 1B: 256). */
  readonly headDim?: number;
  /** RMSNorm over head_dim on every query and key head before RoPE (Gemma 3). Default false. */
  readonly qkNorm?: boolean;
  /** Norms before and after each sublayer, four per block (Gemma 2 and 3), instead of pre-norm only. Default false. */
  readonly sandwichNorm?: boolean;
  /** Multiply token embeddings by √nEmbd (Gemma). Default false. */
  readonly scaleEmbeddings?: boolean;
  /** Keys a local layer's query sees, itself included (0, the default, means no local layers). */
  readonly slidingWindow?: number;
  /** Local layers before each global one, e.g. 5 for Gemma 3's 5:1 (default: every layer local when slidingWindow > 0, else 0). */
  readonly localGlobalPattern?: number;
  /** Multiplier of q·kᵀ before the softmax (default 1/√headDim; Gemma 3's query_pre_attn_scalar s gives 1/√s). */
  readonly attnScale?: number;
  /** Linear RoPE scaling of global layers: positions are divided by it (default 1; HF rope_scaling {type: "linear"}). */
  readonly ropeScale?: number;
}

/** A config with every field filled and checked. */
export type ResolvedGPTConfig = Required<GPTConfig>;

/** The GPT-2-era fields: what a recipe fixes without the fields derived from nEmbd and nHead. */
export type GPT2Shape = Required<
  Pick<
    GPTConfig,
    'blockSize' | 'nLayer' | 'nHead' | 'nEmbd' | 'activation' | 'ffnHidden' | 'dropout' | 'bias' | 'tieEmbeddings' | 'layerNormEps' | 'seed'
  >
>;

/**
 * nanoGPT's CPU recipe for Shakespeare (vocabSize is the corpus's); like nanoGPT's train.py, no biases.
 * It leaves headDim and nKvHead out so that overriding nEmbd or nHead keeps them consistent.
 */
export const SHAKESPEARE_CHAR: GPT2Shape = {
  blockSize: 64,
  nLayer: 4,
  nHead: 4,
  nEmbd: 128,
  activation: 'gelu',
  ffnHidden: 512,
  dropout: 0,
  bias: false,
  tieEmbeddings: true,
  layerNormEps: 1e-5,
  seed: 1337,
};

/** True for the gated feed-forward kinds, which have a gate and an up projection. */
export function isGated(activation: Activation): boolean {
  return activation === 'swiglu' || activation === 'geglu';
}

/** Fills defaults and validates; every error names the field and how to fix it. */
export function resolveConfig(config: GPTConfig): ResolvedGPTConfig {
  if (config == null || typeof config !== 'object') {
    throw new Error('GPTConfig must be an object with at least vocabSize.');
  }
  const nEmbd = config.nEmbd ?? 768;
  const nHead = config.nHead ?? 12;
  const nLayer = config.nLayer ?? 12;
  const activation = config.activation ?? 'gelu';
  // Shazeer (2020): a gated FFN with 2/3 of the width has the parameters of an ungated one at 4·d.
  const gatedHidden = 8 * Math.ceil((8 * nEmbd) / 3 / 8);
  const ropeTheta = config.ropeTheta ?? 10000;
  const slidingWindow = config.slidingWindow ?? 0;
  // A non-integer quotient is reported by validateConfig as "nEmbd must be divisible by nHead".
  const headDim = config.headDim ?? nEmbd / nHead;
  const c: ResolvedGPTConfig = {
    vocabSize: config.vocabSize,
    blockSize: config.blockSize ?? 1024,
    nLayer,
    nHead,
    nEmbd,
    activation,
    ffnHidden: config.ffnHidden ?? (isGated(activation) ? gatedHidden : 4 * nEmbd),
    dropout: config.dropout ?? 0,
    bias: config.bias ?? true,
    tieEmbeddings: config.tieEmbeddings ?? true,
    layerNormEps: config.layerNormEps ?? 1e-5,
    seed: config.seed ?? 1337,
    norm: config.norm ?? 'layernorm',
    position: config.position ?? 'learned',
    ropeTheta,
    ropeLocalTheta: config.ropeLocalTheta ?? ropeTheta,
    nKvHead: config.nKvHead ?? nHead,
    headDim,
    qkNorm: config.qkNorm ?? false,
    sandwichNorm: config.sandwichNorm ?? false,
    scaleEmbeddings: config.scaleEmbeddings ?? false,
    slidingWindow,
    localGlobalPattern: config.localGlobalPattern ?? (slidingWindow > 0 ? nLayer : 0),
    attnScale: config.attnScale ?? 1 / Math.sqrt(headDim),
    ropeScale: config.ropeScale ?? 1,
  };
  validateConfig(c, config.headDim !== undefined);
  return Object.freeze(c);
}
