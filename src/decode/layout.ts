import { ropeTables } from '../attention/rope.js';
import type { ResolvedGPTConfig } from '../config/config.js';
import { layerPath, MODEL_SLOTS, tensorName, type LayerSlot } from '../config/names.js';
import { planModel, type LayerPlan } from '../config/plan.js';
import type { MatMulEngine, MatrixRef, VectorRef, WeightInput } from '../ops/engine.js';
import type { NormRef } from './rowOps.js';

/** A linear layer y = x·W + b as the engine sees it. */
export interface Linear {
  readonly w: MatrixRef;
  readonly b: VectorRef | undefined;
}

/** One layer's weights and its plan: what the decoder computes with. */
export interface LayerRefs {
  readonly plan: LayerPlan;
  readonly preAttnNorm: NormRef;
  /** x → q | k | v in one product (c_attn). */
  readonly qkv: Linear;
  /** RMSNorm gains over hd for every query and key head (QK-norm). */
  readonly qNorm: VectorRef | undefined;
  readonly kNorm: VectorRef | undefined;
  /** RoPE tables of this layer's base and scale, with rotary positions. */
  readonly rope: { cos: Float32Array; sin: Float32Array } | undefined;
  /** W^O. */
  readonly proj: Linear;
  /** Norms of the sublayer outputs before the residual adds (post-norms). */
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
  /** W_teᵀ (C, V): column id is token id's embedding (the same matrix as `head` when tied). */
  readonly tokens: MatrixRef;
  readonly wpe: VectorRef | undefined;
  /** Factor on token embeddings (√C with scaled embeddings, else 1). */
  readonly embedScale: number;
  readonly layers: readonly LayerRefs[];
  readonly finalNorm: NormRef;
  /** W_headᵀ (C, V): the tied embedding or the separate LM head, transposed. */
  readonly head: MatrixRef;
}

/**
 * Reads a model's weights into engine references by the canonical names of src/config/names.ts,
 * layer by layer as its plan says. `take` looks a tensor up and records it, so the decoder can
 * tell later whether it was replaced.
 */
export function readModel(
  c: ResolvedGPTConfig,
  engine: MatMulEngine,
  take: (name: string) => WeightInput | undefined,
): ModelRefs {
  const plan = planModel(c);
  const must = (name: string): WeightInput => {
    const t = take(name);
    if (t === undefined) throw new Error(`Decoder: the model has no weight "${name}".`);
    return t;
  };
  const opt = (name: string) => {
    const t = take(name);
    return t && engine.vector(t);
  };
  const norm = (path: string, kind: NormRef['kind']): NormRef => ({
    kind,
    gamma: engine.vector(must(tensorName(path))),
    beta: opt(tensorName(path, 'bias')),
  });
  const lin = (path: string): Linear => ({ w: engine.matrix(must(tensorName(path)), false), b: opt(tensorName(path, 'bias')) });
  const tables = new Map<string, { cos: Float32Array; sin: Float32Array }>();
  const ropeOf = (l: LayerPlan) => {
    if (l.ropeBase === undefined) return undefined;
    const key = `${l.ropeBase}:${l.ropeScale}`;
    if (!tables.has(key)) tables.set(key, ropeTables(l.headDim, c.blockSize, l.ropeBase, l.ropeScale));
    return tables.get(key);
  };
  const layers = plan.layers.map((l): LayerRefs => {
    const at = (slot: LayerSlot) => layerPath(l.index, slot);
    return {
      plan: l,
      preAttnNorm: norm(at('attnNorm'), l.norm),
      qkv: lin(at('qkv')),
      qNorm: l.qkNorm ? engine.vector(must(tensorName(at('qNorm')))) : undefined,
      kNorm: l.qkNorm ? engine.vector(must(tensorName(at('kNorm')))) : undefined,
      rope: ropeOf(l),
      proj: lin(at('attnOut')),
      postAttnNorm: l.postNorms ? norm(at('attnPostNorm'), l.norm) : undefined,
      preFfnNorm: norm(at('mlpNorm'), l.norm),
      fc: lin(at('mlpIn')),
      up: l.gated ? lin(at('mlpUp')) : undefined,
      out: lin(at('mlpOut')),
      postFfnNorm: l.postNorms ? norm(at('mlpPostNorm'), l.norm) : undefined,
    };
  });
  // Embedding rows are columns of W_teᵀ, so a tied head serves as the embedding too (one copy).
  const tokens = engine.matrix(must(tensorName(MODEL_SLOTS.tokens)), true);
  return {
    tokens,
    wpe: plan.learnedPositions ? engine.vector(must(tensorName(MODEL_SLOTS.positions))) : undefined,
    embedScale: plan.embedScale,
    layers,
    finalNorm: norm(MODEL_SLOTS.finalNorm, plan.finalNorm),
    // logits = h·W_headᵀ with W_head (V, C).
    head: plan.tiedHead ? tokens : engine.matrix(must(tensorName(MODEL_SLOTS.head)), true),
  };
}
