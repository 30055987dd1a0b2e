import { isGated, type Activation, type NormKind, type ResolvedGPTConfig } from './config.js';

/**
 * How one transformer layer computes, read off the config once. GPT's Block and Attention, the
 * tensor-free Decoder and the weight-name table all follow this record, so no module reads a raw
 * config flag: a layer is pre-norm → attention → (post-norm) → residual → pre-norm → FFN →
 * (post-norm) → residual, and the fields below say which parts it has and how they compute.
 */
export interface LayerPlan {
  /** 0-based position of the layer in the stack. */
  readonly index: number;
  /** Kind of every norm of the residual stream in this layer. */
  readonly norm: NormKind;
  /** Epsilon of those norms and of the q/k norms. */
  readonly eps: number;
  /** Whether linear layers and LayerNorms carry a bias (offset β). */
  readonly bias: boolean;
  /** Norms on the sublayer outputs before each residual add (Gemma 2 and 3's "sandwich"). */
  readonly postNorms: boolean;
  /** Query heads A. */
  readonly nHead: number;
  /** Key/value heads G (A: multi-head, 1: multi-query); each serves A/G query heads. */
  readonly nKvHead: number;
  /** Width of one head, d_k = d_v. */
  readonly headDim: number;
  /** Keys a query sees, itself included, in a sliding-window layer; 0 in a global layer (all j ≤ i). */
  readonly window: number;
  /** RoPE base θ of this layer, or undefined when positions are a learned table added to the embeddings. */
  readonly ropeBase: number | undefined;
  /** Linear RoPE scaling: positions divided by this before rotating (1 = none). */
  readonly ropeScale: number;
  /** RMSNorm over headDim on every query and key head before RoPE (Gemma 3). */
  readonly qkNorm: boolean;
  /** Multiplier of q·kᵀ before the softmax: 1/√d_k unless the model says otherwise. */
  readonly attnScale: number;
  /** Feed-forward nonlinearity. */
  readonly activation: Activation;
  /** Whether the FFN is gated (SwiGLU, GeGLU): act(x·W_gate) ⊙ x·W_up. */
  readonly gated: boolean;
  /** Hidden width of the FFN (per branch when gated). */
  readonly ffnHidden: number;
  /** Dropout on attention weights and both residual branches while training. */
  readonly dropout: number;
  /** Std of the initial output projections W^O and W_down: GPT-2's 0.02/√(2·nLayer). */
  readonly projStd: number;
}

/** The whole stack's plan: the embedding end, one {@link LayerPlan} per layer, the head end. */
export interface ModelPlan {
  readonly layers: readonly LayerPlan[];
  /** A learned position table W_pe is added to the token embeddings (GPT-2); otherwise RoPE. */
  readonly learnedPositions: boolean;
  /** Factor on the token embeddings: √d with scaleEmbeddings (Gemma), else 1. */
  readonly embedScale: number;
  /** Kind of the final norm. */
  readonly finalNorm: NormKind;
  /** Whether the LM head is the token embedding (logits = h·W_teᵀ). */
  readonly tiedHead: boolean;
}

/**
 * Whether layer i is a sliding-window layer: with k local layers per global one, every
 * (k + 1)-th layer is global, as in Gemma 3 (k = 5: layers 5, 11, 17, 23 of 26 see everything).
 */
function isLocal(c: ResolvedGPTConfig, i: number): boolean {
  return c.slidingWindow > 0 && (i + 1) % (c.localGlobalPattern + 1) !== 0;
}

/** The plan of layer i of config c. */
export function planLayer(c: ResolvedGPTConfig, i: number): LayerPlan {
  const local = isLocal(c, i);
  return Object.freeze({
    index: i,
    norm: c.norm,
    eps: c.layerNormEps,
    bias: c.bias,
    postNorms: c.sandwichNorm,
    nHead: c.nHead,
    nKvHead: c.nKvHead,
    headDim: c.headDim,
    window: local ? c.slidingWindow : 0,
    ropeBase: c.position === 'rope' ? (local ? c.ropeLocalTheta : c.ropeTheta) : undefined,
    // HF applies linear scaling to the global rotary table only; local layers keep their own base unscaled.
    ropeScale: c.position === 'rope' && !local ? c.ropeScale : 1,
    qkNorm: c.qkNorm,
    attnScale: c.attnScale,
    activation: c.activation,
    gated: isGated(c.activation),
    ffnHidden: c.ffnHidden,
    dropout: c.dropout,
    projStd: 0.02 / Math.sqrt(2 * c.nLayer),
  });
}

/** Plans every layer of a resolved config, once. */
export function planModel(c: ResolvedGPTConfig): ModelPlan {
  const layers = Array.from({ length: c.nLayer }, (_, i) => planLayer(c, i));
  return Object.freeze({
    layers,
    learnedPositions: c.position === 'learned',
    embedScale: c.scaleEmbeddings ? Math.sqrt(c.nEmbd) : 1,
    finalNorm: c.norm,
    tiedHead: c.tieEmbeddings,
  });
}

/** The width of a layer's fused projection x·W_qkv: A query heads, then G key and G value heads. */
export function qkvWidth(l: LayerPlan): number {
  return (l.nHead + 2 * l.nKvHead) * l.headDim;
}

/**
 * Whether a layer is GPT-2's attention exactly: as many key/value heads as query heads, learned
 * positions, no q/k norms, no window and the 1/√d_k scale. Such layers can run the fused
 * attention kernel, and only such a model fits Hugging Face's GPT-2 format.
 */
export function isPlainAttention(l: LayerPlan): boolean {
  return (
    l.nKvHead === l.nHead &&
    l.ropeBase === undefined &&
    !l.qkNorm &&
    l.window === 0 &&
    Math.abs(l.attnScale * Math.sqrt(l.headDim) - 1) < 1e-12
  );
}

/** Whether a whole model is GPT-2's architecture (any FFN activation): what format "hf-gpt2" can hold. */
export function isGpt2Architecture(c: ResolvedGPTConfig): boolean {
  const p = planModel(c);
  return (
    c.norm === 'layernorm' &&
    p.learnedPositions &&
    p.embedScale === 1 &&
    c.headDim * c.nHead === c.nEmbd &&
    p.layers.every((l) => isPlainAttention(l) && !l.postNorms)
  );
}
