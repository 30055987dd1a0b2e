import type * as tf from '@tensorflow/tfjs-core';
import { ropeTables } from '../attention/rope.js';
import { isLocalLayer, ropeBaseOf, usesGpt2Layout } from '../config/plan.js';
import type { ResolvedGPTConfig } from '../config/config.js';
import { arrayVector, concatFloats, type MatMulEngine, type MatrixRef, type VectorRef } from './engine.js';
import type { NormRef } from './rowOps.js';

/** A linear layer y = x·W + b as the engine sees it. */
export interface Linear {
  readonly w: MatrixRef;
  readonly b: VectorRef | undefined;
}

/** One decoder layer's weights, in the same terms for GPT-2's and the Llama/Gemma layout. */
export interface LayerRefs {
  readonly preAttnNorm: NormRef;
  /** x → q | k | v in one product (GPT-2's c_attn, or q_proj, k_proj, v_proj side by side). */
  readonly qkv: Linear;
  /** RMSNorm gains over hd for every query and key head (Gemma 3's QK-norm). */
  readonly qNorm: VectorRef | undefined;
  readonly kNorm: VectorRef | undefined;
  /** RoPE tables of this layer's base, with rotary positions. */
  readonly rope: { cos: Float32Array; sin: Float32Array } | undefined;
  /** Keys a query sees in a sliding-window layer, itself included; 0 for all. */
  readonly window: number;
  /** W^O. */
  readonly proj: Linear;
  /** Norms of the sublayer outputs before the residual adds (sandwich norm). */
  readonly postAttnNorm: NormRef | undefined;
  readonly preFfnNorm: NormRef;
  /** The FFN's first projection (the gate when gated), the up branch when gated, the output projection. */
  readonly fc: Linear;
  readonly up: Linear | undefined;
  readonly out: Linear;
  readonly postFfnNorm: NormRef | undefined;
}

/** Everything the decoder reads from a model. */
export interface ModelRefs {
  readonly wte: VectorRef;
  readonly wpe: VectorRef | undefined;
  readonly layers: readonly LayerRefs[];
  readonly finalNorm: NormRef;
  /** W_headᵀ (C, V): the tied embedding or the separate LM head, transposed. */
  readonly head: MatrixRef;
}

/**
 * Reads a model's weights by their names (see GPT.namedWeights) into engine references. `take`
 * looks a tensor up and records it, so the decoder can tell later whether it was replaced.
 */
export function readModel(c: ResolvedGPTConfig, engine: MatMulEngine, take: (name: string) => tf.Tensor | undefined): ModelRefs {
  const must = (name: string): tf.Tensor => {
    const t = take(name);
    if (t === undefined) throw new Error(`Decoder: the model has no weight "${name}".`);
    return t;
  };
  const opt = (name: string) => {
    const t = take(name);
    return t && engine.vector(t);
  };
  const norm = (name: string): NormRef => ({ kind: c.norm, gamma: engine.vector(must(`${name}.weight`)), beta: opt(`${name}.bias`) });
  const linOf = (w: tf.Tensor, name: string): Linear => ({ w: engine.matrix(w as tf.Tensor2D, false), b: opt(`${name}.bias`) });
  const lin = (name: string): Linear => linOf(must(`${name}.weight`), name);
  /** A linear layer the model may lack (GPT-2 layout's c_up exists only with a gated FFN). */
  const optLin = (name: string): Linear | undefined => {
    const w = take(`${name}.weight`);
    return w && linOf(w, name);
  };
  const gpt2 = usesGpt2Layout(c);
  const tables = new Map<number, { cos: Float32Array; sin: Float32Array }>();
  const ropeOf = (i: number) => {
    if (c.position !== 'rope') return undefined;
    const base = ropeBaseOf(c, i);
    if (!tables.has(base)) tables.set(base, ropeTables(c.headDim, c.blockSize, base));
    return tables.get(base);
  };
  const layers = Array.from({ length: c.nLayer }, (_, i): LayerRefs => {
    const h = `h.${i}.`;
    if (gpt2) {
      const fc = lin(`${h}mlp.c_fc`);
      const up = optLin(`${h}mlp.c_up`);
      const common = { qNorm: undefined, kNorm: undefined, rope: undefined, window: 0, postAttnNorm: undefined, postFfnNorm: undefined };
      return { ...common, preAttnNorm: norm(`${h}ln_1`), qkv: lin(`${h}attn.c_attn`), proj: lin(`${h}attn.c_proj`), preFfnNorm: norm(`${h}ln_2`), fc, up, out: lin(`${h}mlp.c_proj`) };
    }
    const parts = ['q', 'k', 'v'].map((p) => `${h}attn.${p}_proj`);
    const biases = parts.map((p) => take(`${p}.bias`));
    const qkvBias = biases.every((b) => b !== undefined) ? arrayVector(concatFloats(biases.map((b) => b!.dataSync() as Float32Array))) : undefined;
    const gated = c.activation === 'swiglu' || c.activation === 'geglu';
    return {
      preAttnNorm: norm(`${h}pre_attention_norm`),
      qkv: { w: engine.columns(parts.map((p) => must(`${p}.weight`) as tf.Tensor2D)), b: qkvBias },
      qNorm: c.qkNorm ? engine.vector(must(`${h}attn.q_norm.weight`)) : undefined,
      kNorm: c.qkNorm ? engine.vector(must(`${h}attn.k_norm.weight`)) : undefined,
      rope: ropeOf(i),
      window: isLocalLayer(c, i) ? c.slidingWindow : 0,
      proj: lin(`${h}attn.o_proj`),
      postAttnNorm: c.sandwichNorm ? norm(`${h}post_attention_norm`) : undefined,
      preFfnNorm: norm(`${h}pre_feedforward_norm`),
      fc: lin(gated ? `${h}mlp.gate_proj` : `${h}mlp.up_proj`),
      up: gated ? lin(`${h}mlp.up_proj`) : undefined,
      out: lin(`${h}mlp.down_proj`),
      postFfnNorm: c.sandwichNorm ? norm(`${h}post_feedforward_norm`) : undefined,
    };
  });
  return {
    wte: engine.vector(must('wte.weight')),
    wpe: c.position === 'learned' ? engine.vector(must('wpe.weight')) : undefined,
    layers,
    finalNorm: norm(gpt2 ? 'ln_f' : 'final_norm'),
    // logits = h·W_headᵀ with W_head (V, C).
    head: engine.matrix(must(c.tieEmbeddings ? 'wte.weight' : 'lm_head.weight') as tf.Tensor2D, true),
  };
}
