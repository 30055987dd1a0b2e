import * as tf from '@tensorflow/tfjs-core';
import { linear } from '../ops/matmul.js';
import { fusedKernels } from '../ops/fused.js';
import { constantVariable, maybeDropout, normalVariable, type Module, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';
import { causalMask } from './causalMask.js';
import { fusedCausalAttention } from './fusedAttention.js';
import type { KVCache } from './kvCache.js';
import { scaledDotProductAttention } from './scaledDotProduct.js';

/** Sizes and options of a {@link MultiHeadAttention}. */
export interface MultiHeadAttentionConfig {
  /** Model width d. */
  readonly nEmbd: number;
  /** Number of heads A; d_k = d_v = d / A. */
  readonly nHead: number;
  /** Longest sequence; the causal mask is built once at this size. */
  readonly blockSize: number;
  /** Whether the projections carry biases. */
  readonly bias: boolean;
  /** Dropout on attention weights and on the output projection. */
  readonly dropout: number;
  /** Std of the output projection's init (GPT-2 scales it by 1/√(2·nLayer)). */
  readonly projStd: number;
}

/** Per-call options of a forward pass. */
export interface AttentionCall {
  readonly training: boolean;
  readonly seed: number;
  /** When set, receives the attention weights (B, nh, T, T); the caller owns them. */
  readonly keepWeights?: (weights: tf.Tensor4D) => void;
  /** Incremental decoding: read and extend this cache at this layer (the new T positions follow its S). */
  readonly cache?: { readonly store: KVCache; readonly layer: number };
}

/**
 * Multi-head causal self-attention. W^Q, W^K, W^V of every head are stored fused as one
 * c_attn (d, 3d) so one 2-D matMul projects them all; the heads are concatenated and
 * projected by W^O = c_proj of shape (A·d_v, d).
 */
export class MultiHeadAttention implements Module {
  readonly cAttnW: tf.Variable<tf.Rank.R2>;
  readonly cAttnB: tf.Variable<tf.Rank.R1> | undefined;
  readonly cProjW: tf.Variable<tf.Rank.R2>;
  readonly cProjB: tf.Variable<tf.Rank.R1> | undefined;
  private readonly mask: tf.Tensor2D;

  constructor(
    readonly config: MultiHeadAttentionConfig,
    rng: Rng,
  ) {
    const { nEmbd: c, bias } = config;
    this.cAttnW = normalVariable([c, 3 * c], 0.02, rng) as tf.Variable<tf.Rank.R2>;
    this.cAttnB = bias ? (constantVariable([3 * c], 0) as tf.Variable<tf.Rank.R1>) : undefined;
    this.cProjW = normalVariable([c, c], config.projStd, rng) as tf.Variable<tf.Rank.R2>;
    this.cProjB = bias ? (constantVariable([c], 0) as tf.Variable<tf.Rank.R1>) : undefined;
    this.mask = causalMask(config.blockSize); // (blockSize, blockSize), built once
  }

  /** x (B·T, C) → (B·T, C). */
  forward(x: tf.Tensor2D, b: number, t: number, call: AttentionCall): tf.Tensor2D {
    const { nEmbd: c, nHead: nh, dropout } = this.config;
    const hs = c / nh;
    const qkv = linear(x, this.cAttnW, this.cAttnB); // (B·T, 3C)
    const mask = t === this.config.blockSize ? this.mask : tf.slice(this.mask, [0, 0], [t, t]); // (T, T)
    // Column j·hs + d of qkv is dim d of slot j = part·nh + head, so a 4-D transpose brings every
    // slot's (T, hs) block together; a 5-D one straight to (3, B, nh, T, hs) is ~30x slower on wasm.
    const slots = tf.transpose(tf.reshape(qkv, [b, t, 3 * nh, hs]), [0, 2, 1, 3]) as tf.Tensor4D; // (B, 3·nh, T, hs)
    let output: tf.Tensor4D; // (B, nh, T, hs)
    if (call.cache) {
      output = this.attendCached(slots, call.cache.store, call.cache.layer); // (B, nh, T, hs)
    } else if (fusedKernels() && !(call.training && dropout > 0) && !call.keepWeights) {
      output = fusedCausalAttention(slots, nh, mask); // (B, nh, T, hs)
    } else {
      const [q, k, v] = tf.split(slots, 3, 1) as tf.Tensor4D[]; // each (B, nh, T, hs)
      const sdpa = scaledDotProductAttention(q, k, v, { mask, dropout, training: call.training, seed: call.seed });
      if (call.keepWeights) call.keepWeights(sdpa.weights); // (B, nh, T, T)
      output = sdpa.output; // (B, nh, T, hs)
    }
    const merged = tf.reshape(tf.transpose(output, [0, 2, 1, 3]), [b * t, c]) as tf.Tensor2D; // (B·T, C) heads concatenated
    const y = linear(merged, this.cProjW, this.cProjB); // (B·T, C)
    return maybeDropout(y, dropout, call.training, call.seed + 1); // (B·T, C)
  }

  /**
   * The new positions' queries against cached plus new keys: T queries sit at positions S..S+T−1,
   * so row i of the causal mask allows keys j ≤ S + i (rows S..S+T−1 of the full mask).
   */
  private attendCached(slots: tf.Tensor4D, store: KVCache, layer: number): tf.Tensor4D {
    const [, , t] = slots.shape;
    const [q, kNew, vNew] = tf.split(slots, 3, 1) as tf.Tensor4D[]; // each (B, nh, T, hs)
    const s = store.lengthOf(layer);
    if (s + t > this.config.blockSize) {
      throw new Error(`KV cache holds ${s} positions; ${t} more exceed blockSize ${this.config.blockSize}: reset and re-read the window.`);
    }
    const { k, v } = store.append(layer, kNew, vNew); // (B, nh, S+T, hs)
    if (t === 1) return scaledDotProductAttention(q, k, v, { causal: false }).output; // the newest query sees every key
    const mask = tf.slice(this.mask, [s, 0], [t, s + t]); // (T, S+T)
    return scaledDotProductAttention(q, k, v, { mask }).output; // (B, nh, T, hs)
  }

  weights(): NamedVariables {
    const out: NamedVariables = [['c_attn.weight', this.cAttnW]];
    if (this.cAttnB) out.push(['c_attn.bias', this.cAttnB]);
    out.push(['c_proj.weight', this.cProjW]);
    if (this.cProjB) out.push(['c_proj.bias', this.cProjB]);
    return out;
  }

  dispose(): void {
    for (const [, v] of this.weights()) v.dispose();
    this.mask.dispose();
  }
}
