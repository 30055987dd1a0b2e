import * as tf from '@tensorflow/tfjs-core';
import { isPlainAttention, qkvWidth, type LayerPlan } from '../config/plan.js';
import { RMSNorm } from '../norm/rmsNorm.js';
import { Linear } from '../layers/linear.js';
import { swapAxes12 } from '../ops/transpose.js';
import { maybeDropout, prefixed, type Module, type NamedVariables } from '../util/params.js';
import type { Rng } from '../util/rng.js';
import { fusedCausalAttention } from './fusedAttention.js';
import { groupedAttention } from './groupedAttention.js';
import type { KVCache } from './kvCache.js';
import type { RotaryEmbedding } from './rope.js';
import { slidingWindowMask } from './slidingWindowMask.js';

/** Per-call options of a forward pass through a layer. */
export interface AttentionCall {
  readonly training: boolean;
  readonly seed: number;
  /** When set, receives the attention weights (B, A, T, S); the caller owns them. */
  readonly keepWeights?: (weights: tf.Tensor4D) => void;
  /** Incremental decoding: read and extend this cache at this layer (the new T positions follow its S). */
  readonly cache?: { readonly store: KVCache; readonly layer: number };
}

/**
 * Causal self-attention of one layer, as its {@link LayerPlan} says:
 *   [q | k | v] = x·W_qkv + b                     one fused projection, A + 2G heads of width d_k
 *   q, k ← RMSNorm per head (qkNorm), then RoPE (rotary positions)
 *   head_i = softmax(s·q_i·k_gᵀ + M)·v_g           g = ⌊i·G/A⌋ (GQA), s = 1/√d_k, M causal (and windowed)
 *   y = [head_1 … head_A]·W^O + b                  W^O of shape (A·d_v) × d
 * GPT-2's layers (A = G, no norms, learned positions, no window) run the fused attention kernel
 * straight from the projection; every other layer splits q, k, v and runs grouped attention.
 * The rotary table is shared between layers and owned by the model.
 */
export class Attention implements Module {
  /** W_qkv (d, (A + 2G)·d_k), the fused q|k|v projection (GPT-2's c_attn). */
  readonly qkv: Linear;
  /** W^O (A·d_v, d) (GPT-2's c_proj). */
  readonly out: Linear;
  readonly qNorm: RMSNorm | undefined;
  readonly kNorm: RMSNorm | undefined;
  /** The additive mask at full size (blockSize, blockSize), causal and windowed; sliced per call. */
  private readonly mask: tf.Tensor2D;
  private readonly fusable: boolean;

  constructor(
    readonly plan: LayerPlan,
    nEmbd: number,
    readonly blockSize: number,
    rng: Rng | null,
    private readonly rope?: RotaryEmbedding,
  ) {
    const { nHead: nh, nKvHead: nkv, headDim: hd, bias } = plan;
    if (nh % nkv !== 0) throw new Error(`Attention: nHead (${nh}) must be divisible by nKvHead (${nkv}).`);
    if ((plan.ropeBase === undefined) !== (rope === undefined)) {
      throw new Error(`Attention: layer ${plan.index} ${rope ? 'has learned positions but was given' : 'needs'} a rotary table.`);
    }
    if (rope && rope.headDim !== hd) throw new Error(`Attention: the RoPE table is for head size ${rope.headDim}, not ${hd}.`);
    this.qkv = new Linear(nEmbd, qkvWidth(plan), 0.02, bias, rng);
    this.out = new Linear(nh * hd, nEmbd, plan.projStd, bias, rng);
    this.qNorm = plan.qkNorm ? new RMSNorm(hd, plan.eps) : undefined;
    this.kNorm = plan.qkNorm ? new RMSNorm(hd, plan.eps) : undefined;
    this.mask = slidingWindowMask(blockSize, blockSize, plan.window); // (blockSize, blockSize), built once
    this.fusable = isPlainAttention(plan);
  }

  /** x (B·T, C) → (B·T, C); with call.cache, the T positions follow the ones cached at this layer. */
  forward(x: tf.Tensor2D, b: number, t: number, call: AttentionCall): tf.Tensor2D {
    const { nHead: nh, nKvHead: nkv, headDim: hd, dropout } = this.plan;
    const qkv = this.qkv.forward(x, call.training, call.seed + 4); // (B·T, (A + 2G)·hd)
    // Column j·hd + e of qkv is feature e of head slot j (A query slots, then G key, G value).
    const tokens = tf.reshape(qkv, [b, t, nh + 2 * nkv, hd]) as tf.Tensor4D; // (B, T, A + 2G, hd)
    const s = call.cache ? call.cache.store.lengthOf(call.cache.layer) : 0; // positions already cached
    if (s + t > this.blockSize) {
      throw new Error(`KV cache holds ${s} positions; ${t} more exceed blockSize ${this.blockSize}: reset and re-read the window.`);
    }
    const mask = s === 0 && t === this.blockSize ? this.mask : tf.slice(this.mask, [s, 0], [t, s + t]); // (T, S+T): rows of positions s..s+T−1
    let merged: tf.Tensor2D; // (B·T, A·hd) heads concatenated
    if (this.fusable && !call.cache && !(call.training && dropout > 0) && !call.keepWeights) {
      // The products read q, k, v from qkv and write the heads side by side: no transposes.
      merged = tf.reshape(fusedCausalAttention(tokens, nh, mask, this.plan.attnScale), [b * t, nh * hd]); // (B·T, A·hd)
    } else {
      // A 4-D transpose brings every slot's (T, hd) block together; a 5-D one is ~30x slower on wasm.
      const slots = swapAxes12(tokens); // (B, A + 2G, T, hd)
      let q = tf.slice(slots, [0, 0, 0, 0], [b, nh, t, hd]); // (B, A, T, hd)
      let k = tf.slice(slots, [0, nh, 0, 0], [b, nkv, t, hd]); // (B, G, T, hd)
      let v = tf.slice(slots, [0, nh + nkv, 0, 0], [b, nkv, t, hd]); // (B, G, T, hd)
      if (this.qNorm && this.kNorm) {
        q = this.qNorm.forward(q); // (B, A, T, hd)
        k = this.kNorm.forward(k); // (B, G, T, hd)
      }
      if (this.rope) {
        q = this.rope.apply(q, s); // (B, A, T, hd) at positions s..s+T−1
        k = this.rope.apply(k, s); // (B, G, T, hd)
      }
      // The cache keeps every position's rotated key, so a window only changes the mask.
      if (call.cache) ({ k, v } = call.cache.store.append(call.cache.layer, k, v)); // (B, G, S+T, hd) each
      const att = groupedAttention(q, k, v, mask, { dropout, training: call.training, seed: call.seed, scale: this.plan.attnScale });
      if (call.keepWeights) call.keepWeights(att.weights); // (B, A, T, S+T)
      merged = tf.reshape(swapAxes12(att.output), [b * t, nh * hd]); // (B·T, A·hd)
    }
    const y = this.out.forward(merged, call.training, call.seed + 5); // (B·T, C)
    return maybeDropout(y, dropout, call.training, call.seed + 1); // (B·T, C)
  }

  /** c_attn, then q_norm and k_norm (qkNorm), then c_proj. */
  weights(): NamedVariables {
    const out: NamedVariables = [...prefixed('c_attn.', this.qkv.weights())];
    if (this.qNorm && this.kNorm) out.push(...prefixed('q_norm.', this.qNorm.weights()), ...prefixed('k_norm.', this.kNorm.weights()));
    out.push(...prefixed('c_proj.', this.out.weights()));
    return out;
  }

  dispose(): void {
    this.qkv.dispose();
    this.out.dispose();
    this.qNorm?.dispose();
    this.kNorm?.dispose();
    this.mask.dispose();
  }
}
