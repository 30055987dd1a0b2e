import * as tf from '@tensorflow/tfjs-core';
import { KVCache } from '../attention/kvCache.js';
import { RotaryEmbedding } from '../attention/rope.js';
import { Block } from '../block/block.js';
import { resolveConfig, type GPTConfig, type ResolvedGPTConfig } from '../config/config.js';
import { canonicalTensors, type CanonicalTensor, type LayerSlot } from '../config/names.js';
import { planModel, type ModelPlan } from '../config/plan.js';
import { makeNorm, type Norm } from '../norm/norms.js';
import { crossEntropy } from '../ops/crossEntropy.js';
import { embedding } from '../ops/embedding.js';
import { matMul2dNT } from '../ops/matmul.js';
import { Linear } from '../layers/linear.js';
import { maybeDropout, normalVariable, type Module } from '../util/params.js';
import { createRng } from '../util/rng.js';
import { modelStepper } from './stepper.js';
import type { ForwardOptions, LanguageModel, Stepper, StepperOptions } from './types.js';

/** What forwardWithAttention returns: logits (B, T, V) and one α (B, nh, T, T) per layer; the caller disposes all. */
export interface ForwardWithAttention {
  /** Next-token logits (B, T, V). */
  readonly logits: tf.Tensor3D;
  /** Attention weights α (B, nh, T, T), one per layer, in layer order. */
  readonly attention: tf.Tensor4D[];
}

/**
 * GPT: token embedding (+ learned positions), nLayer blocks, a final norm and an LM head giving
 * logits of p(w_{N+1} | w_1..w_N) over the vocabulary. Every layer is a {@link Block} that
 * follows its {@link LayerPlan} (src/config/plan.ts): GPT-2 (LayerNorm, learned positions, fused
 * attention) and Llama/Gemma-style layers (RMSNorm, RoPE, GQA, q/k norms, sandwich norms, sliding
 * windows) are the same modules with other plans, under the same weight names (src/config/names.ts).
 * The head is tied to the token embedding by default (logits = h·W_teᵀ), as in GPT-2.
 */
export class GPT implements LanguageModel {
  readonly config: ResolvedGPTConfig;
  /** The per-layer plan every module of this model follows. */
  readonly plan: ModelPlan;
  /** Token embedding W_te (V, C). */
  readonly wte: tf.Variable<tf.Rank.R2>;
  /** Position embedding W_pe (blockSize, C), only with learned positions. */
  readonly wpe: tf.Variable<tf.Rank.R2> | undefined;
  readonly blocks: readonly Block[];
  /** Final norm "ln_f". */
  readonly lnF: Norm;
  /** Rotary tables, one per distinct (base, scale), shared by the layers using it. */
  private readonly ropes: readonly RotaryEmbedding[];
  /** Untied LM head (V, C), only when tieEmbeddings is false. */
  readonly lmHead: tf.Variable<tf.Rank.R2> | undefined;
  private disposed = false;

  /**
   * A model of `config`, its weights drawn from one seeded stream (GPT-2's init). Loaders pass
   * `{ initialize: false }`: the weights are then zeros, which they overwrite from the file, and
   * no time goes into drawing a billion normals.
   */
  constructor(config: GPTConfig, options: { readonly initialize?: boolean } = {}) {
    const c = resolveConfig(config);
    this.config = c;
    this.plan = planModel(c);
    // One seeded stream initialises every weight in a fixed order: same seed, same model.
    const rng = options.initialize === false ? null : createRng(c.seed);
    this.wte = normalVariable([c.vocabSize, c.nEmbd], 0.02, rng) as tf.Variable<tf.Rank.R2>;
    this.wpe = this.plan.learnedPositions ? (normalVariable([c.blockSize, c.nEmbd], 0.02, rng) as tf.Variable<tf.Rank.R2>) : undefined;
    const tables = new Map<string, RotaryEmbedding>();
    this.blocks = this.plan.layers.map((l) => {
      let rope: RotaryEmbedding | undefined;
      if (l.ropeBase !== undefined) {
        const key = `${l.ropeBase}:${l.ropeScale}`;
        if (!tables.has(key)) tables.set(key, new RotaryEmbedding(l.headDim, c.blockSize, l.ropeBase, l.ropeScale));
        rope = tables.get(key);
      }
      return new Block(l, c.nEmbd, c.blockSize, rng, rope);
    });
    this.ropes = [...tables.values()];
    this.lnF = makeNorm(this.plan.finalNorm, c.nEmbd, c.layerNormEps, c.bias);
    this.lmHead = this.plan.tiedHead ? undefined : (normalVariable([c.vocabSize, c.nEmbd], 0.02, rng) as tf.Variable<tf.Rank.R2>);
  }

  /** Throws when the model has been disposed. */
  checkAlive(): void {
    if (this.disposed) throw new Error('This GPT has been disposed; create or load a new one.');
  }

  private checkIds(ids: tf.Tensor, what: string): void {
    this.checkAlive();
    if (ids.rank !== 2) {
      throw new Error(`GPT.${what}: ids must be a 2-D int32 tensor (B, T); got shape [${ids.shape}].`);
    }
    if (ids.dtype !== 'int32') {
      throw new Error(`GPT.${what}: ids must be int32, got ${ids.dtype}; create them with tf.tensor2d(data, shape, 'int32').`);
    }
    const t = ids.shape[1] ?? 0;
    if (t < 1 || t > this.config.blockSize) {
      throw new Error(
        `GPT.${what}: sequence length ${t} must be between 1 and blockSize (${this.config.blockSize}); crop the context to the last ${this.config.blockSize} tokens.`,
      );
    }
  }

  /** Final hidden states after ln_f, ids (B, T) → (B·T, C); with a cache, positions continue after it. */
  private hidden(ids: tf.Tensor2D, options: ForwardOptions, keep?: (w: tf.Tensor4D) => void, cache?: KVCache): tf.Tensor2D {
    const [b, t] = ids.shape;
    const { training = false, seed = 0 } = options;
    const offset = cache?.length ?? 0;
    const lookup = embedding(this.wte, tf.reshape(ids, [b * t])); // (B·T, C)
    // Gemma multiplies embeddings by √d so that they match the scale of the residual stream.
    const tok = this.plan.embedScale !== 1 ? tf.mul<tf.Tensor2D>(lookup, this.plan.embedScale) : lookup; // (B·T, C)
    let summed = tok; // (B·T, C); with RoPE, positions enter in every attention layer instead
    if (this.wpe) {
      const pos = tf.slice(this.wpe, [offset, 0], [t, this.config.nEmbd]); // (T, C)
      summed = tf.reshape(tf.add(tf.reshape(tok, [b, t, -1]), pos), [b * t, -1]) as tf.Tensor2D; // (B·T, C)
    }
    let x = maybeDropout(summed, this.config.dropout, training, seed); // (B·T, C)
    this.blocks.forEach((block, i) => {
      const layerCache = cache ? { store: cache, layer: i } : undefined;
      x = block.forward(x, b, t, { training, seed: seed + 10 * (i + 1), keepWeights: keep, cache: layerCache }); // (B·T, C)
    });
    return this.lnF.forward(x); // (B·T, C)
  }

  /** h (B·T, C) → logits (B·T, V) = h·W_headᵀ. */
  private head(h: tf.Tensor2D): tf.Tensor2D {
    return matMul2dNT(h, this.lmHead ?? this.wte); // (B·T, C)·(V, C)ᵀ = (B·T, V)
  }

  /** int32 ids (B, T) → logits (B, T, V); with { returnAttention: true }, as {@link forwardWithAttention}. */
  forward(ids: tf.Tensor2D, options: ForwardOptions & { readonly returnAttention: true }): ForwardWithAttention;
  forward(ids: tf.Tensor2D, options?: ForwardOptions & { readonly returnAttention?: false }): tf.Tensor3D;
  forward(ids: tf.Tensor2D, options: ForwardOptions & { readonly returnAttention?: boolean } = {}): tf.Tensor3D | ForwardWithAttention {
    if (options.returnAttention === true) return this.forwardWithAttention(ids, options);
    this.checkIds(ids, 'forward');
    const [b, t] = ids.shape;
    return tf.tidy(() => tf.reshape<tf.Rank.R3>(this.head(this.hidden(ids, options)), [b, t, this.config.vocabSize])); // (B, T, V)
  }

  /**
   * Logits and every layer's attention weights α (B, nh, T, T), for inspection (the caller
   * owns all returned tensors).
   */
  forwardWithAttention(ids: tf.Tensor2D, options: ForwardOptions = {}): ForwardWithAttention {
    this.checkIds(ids, 'forwardWithAttention');
    const [b, t] = ids.shape;
    return tf.tidy(() => {
      const attention: tf.Tensor4D[] = [];
      const h = this.hidden(ids, options, (w) => attention.push(w));
      const logits = tf.reshape(this.head(h), [b, t, this.config.vocabSize]) as tf.Tensor3D; // (B, T, V)
      return { logits, attention };
    });
  }

  /** An empty KV cache for {@link forwardCached}; the caller disposes it. */
  createCache(): KVCache {
    return new KVCache(this.config.nLayer);
  }

  /**
   * Incremental forward: ids (B, T) are the positions right after those in `cache`, which is
   * extended with their keys and values. Returns their logits (B, T, V), equal to the last T rows
   * of a full forward over the cached and new tokens together.
   */
  forwardCached(ids: tf.Tensor2D, cache: KVCache): tf.Tensor3D {
    this.checkIds(ids, 'forwardCached');
    const [b, t] = ids.shape;
    if (cache.length + t > this.config.blockSize) {
      throw new Error(
        `GPT.forwardCached: ${cache.length} cached + ${t} new positions exceed blockSize ${this.config.blockSize}; reset the cache and re-read the last tokens.`,
      );
    }
    return tf.tidy(() => tf.reshape<tf.Rank.R3>(this.head(this.hidden(ids, {}, undefined, cache)), [b, t, this.config.vocabSize])); // (B, T, V)
  }

  /** Mean cross-entropy −ln p(true next token) over all B·T positions. */
  loss(ids: tf.Tensor2D, targets: tf.Tensor2D, options: ForwardOptions = {}): tf.Scalar {
    this.checkIds(ids, 'loss');
    if (targets.rank !== 2 || targets.shape[0] !== ids.shape[0] || targets.shape[1] !== ids.shape[1]) {
      throw new Error(`GPT.loss: targets must have the shape of ids [${ids.shape}]; got [${targets.shape}].`);
    }
    const [b, t] = ids.shape;
    return tf.tidy(() => {
      const logits = this.head(this.hidden(ids, options)); // (B·T, V)
      return crossEntropy(logits, tf.reshape(tf.cast(targets, 'int32'), [b * t])); // ()
    });
  }

  /**
   * Every weight by its canonical name, in the name table's order (src/config/names.ts): wte, wpe
   * (learned positions only), h.{i}.* part by part, ln_f, lm_head (untied only).
   */
  namedWeights(): Map<string, tf.Variable> {
    return new Map(canonicalTensors(this.config).map((t) => [t.name, this.variableOf(t)] as const));
  }

  /** The variable behind one row of the name table. */
  private variableOf(t: CanonicalTensor): tf.Variable {
    const whole = { tokens: this.wte, positions: this.wpe, head: this.lmHead } as const;
    if (t.slot === 'tokens' || t.slot === 'positions' || t.slot === 'head') return whole[t.slot]!;
    const module: Module | undefined = t.slot === 'finalNorm' ? this.lnF : this.blocks[t.layer!].part(t.slot as LayerSlot);
    const v = module && new Map(module.weights()).get(t.param);
    if (!v) throw new Error(`GPT: no variable for ${t.name}; the name table and the modules disagree.`);
    return v;
  }

  /** Every linear layer by module path (h.{i}.attn.c_attn, ... as in src/config/names.ts), e.g. for adapters. */
  linears(): Map<string, Linear> {
    const out = new Map<string, Linear>();
    for (const t of canonicalTensors(this.config)) {
      if (t.layer === undefined || t.param !== 'weight') continue;
      const m = this.blocks[t.layer].part(t.slot as LayerSlot);
      if (m instanceof Linear) out.set(t.name.slice(0, -'.weight'.length), m);
    }
    return out;
  }

  /**
   * Incremental next-token logits for one growing sequence: the tensor-free Decoder on the wasm
   * and cpu backends (where per-op overhead dominates a one-token step), the tensor KV cache
   * elsewhere or with `fastDecoder: false`, and always while adapters are attached. The caller disposes it.
   */
  stepper(options: StepperOptions = {}): Stepper {
    this.checkAlive();
    // The Decoder reads base weights only; adapters run on the tensor path until merged.
    const adapters = [...this.linears().values()].some((l) => l.adapters.length > 0);
    if (adapters && options.fastDecoder === true) {
      throw new Error('GPT.stepper: fastDecoder cannot run a model with adapters attached; merge them first (mergeLoRA) or pass fastDecoder: false.');
    }
    return modelStepper(this, adapters ? { fastDecoder: false } : options);
  }

  /** Number of parameters (a tied head counted once). */
  numParams(): number {
    let n = 0;
    for (const v of this.namedWeights().values()) n += v.size;
    return n;
  }

  /**
   * Loads a model folder: tinygpt's own checkpoint or a Hugging Face GPT-2 folder
   * (config.json + model.safetensors). Node only (reads files).
   */
  static async fromPretrained(dir: string): Promise<GPT> {
    const { loadPretrained } = await pretrainedIO('GPT.fromPretrained');
    return loadPretrained(dir);
  }

  /** Writes config.json and model.safetensors: tinygpt's format, 'hf' (GPT-2, Llama or Gemma 3 as Hugging Face stores them) or 'hf-gpt2'. Node only. */
  async savePretrained(dir: string, options: { readonly format?: 'tinygpt' | 'hf' | 'hf-gpt2' } = {}): Promise<void> {
    this.checkAlive();
    const { savePretrained } = await pretrainedIO('model.savePretrained');
    return savePretrained(this, dir, options.format ?? 'tinygpt');
  }

  /** Frees every weight and buffer. */
  dispose(): void {
    if (this.disposed) return;
    this.wte.dispose();
    this.wpe?.dispose();
    this.blocks.forEach((b) => b.dispose());
    this.ropes.forEach((r) => r.dispose());
    this.lnF.dispose();
    this.lmHead?.dispose();
    this.disposed = true;
  }
}

/**
 * The folder functions, loaded on first use. The specifier is a variable so that bundlers do not
 * follow it: the browser entry's graph then holds no node: import (test/entries.test.ts).
 */
const PRETRAINED_MODULE = '../pretrained/pretrained.js';
async function pretrainedIO(caller: string): Promise<typeof import('../pretrained/pretrained.js')> {
  if (typeof process === 'undefined' || process.versions?.node === undefined) {
    throw new Error(`${caller} reads and writes folders, so it needs Node; in a browser parse the files with parseSafetensors.`);
  }
  return (await import(/* @vite-ignore */ PRETRAINED_MODULE)) as typeof import('../pretrained/pretrained.js');
}
