import type { ResolvedGPTConfig } from './config.js';

/**
 * Whether layer i (0-based) attends only within the sliding window: with a pattern of k local
 * layers per global one, layers k, 2k + 1, ... (every (k + 1)-th) are global, as in Gemma 3
 * (k = 5: layers 5, 11, 17, 23 of 26 see the whole context).
 */
export function isLocalLayer(c: ResolvedGPTConfig, i: number): boolean {
  return c.slidingWindow > 0 && (i + 1) % (c.localGlobalPattern + 1) !== 0;
}

/** The RoPE base of layer i: ropeLocalTheta on sliding-window layers, ropeTheta on global ones. */
export function ropeBaseOf(c: ResolvedGPTConfig, i: number): number {
  return isLocalLayer(c, i) ? c.ropeLocalTheta : c.ropeTheta;
}

/**
 * True when a config is GPT-2's architecture (every modern option at its default; the FFN activation may be any), which keeps
 * GPT-2's fused q|k|v weight (c_attn), its tensor names, and the fused attention kernel. Any other
 * config uses separate q/k/v/o projections and the Llama/Gemma-style names.
 */
export function usesGpt2Layout(c: ResolvedGPTConfig): boolean {
  return (
    c.norm === 'layernorm' &&
    c.position === 'learned' &&
    c.nKvHead === c.nHead &&
    c.headDim * c.nHead === c.nEmbd &&
    !c.qkNorm &&
    !c.sandwichNorm &&
    !c.scaleEmbeddings &&
    c.slidingWindow === 0
  );
}
