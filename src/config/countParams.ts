import { isGated, resolveConfig, type GPTConfig } from './config.js';

/**
 * Parameter count of a config without allocating anything (equals GPT.numParams()), with
 * d = nEmbd, h = headDim, A = nHead, G = nKvHead, H = ffnHidden, b = 1 with biases:
 *   V·d (token embedding) + P·d (learned positions only)
 *   + L·( n·norm  (n = 4 with sandwich norms, else 2; norm = d, or 2d for a LayerNorm with bias)
 *         + d·A·h + b·A·h + 2·(d·G·h + b·G·h) + A·h·d + b·d      (q, k, v, o projections)
 *         + 2h with qkNorm                                         (q and k RMSNorm gains)
 *         + m·(d·H + b·H) + H·d + b·d )                            (FFN, m = 2 branches if gated)
 *   + norm (final) + V·d (untied head only).
 * For GPT-2's layout (A·h = d, G = A) the projections are c_attn d·3d + 3d·b and c_proj d·d + d·b.
 */
export function countParams(config: GPTConfig): number {
  const c = resolveConfig(config);
  const d = c.nEmbd;
  const b = c.bias ? 1 : 0;
  const norm = c.norm === 'layernorm' ? d + b * d : d; // γ (+ β); RMSNorm has no offset
  const normsPerLayer = c.sandwichNorm ? 4 : 2;
  const qWidth = c.nHead * c.headDim;
  const kvWidth = c.nKvHead * c.headDim;
  const attn = d * qWidth + b * qWidth + 2 * (d * kvWidth + b * kvWidth) + qWidth * d + b * d;
  const qk = c.qkNorm ? 2 * c.headDim : 0;
  const branches = isGated(c.activation) ? 2 : 1;
  const ffn = branches * (d * c.ffnHidden + b * c.ffnHidden) + c.ffnHidden * d + b * d;
  const perLayer = normsPerLayer * norm + attn + qk + ffn;
  const positions = c.position === 'learned' ? c.blockSize * d : 0;
  const head = c.tieEmbeddings ? 0 : c.vocabSize * d;
  return c.vocabSize * d + positions + c.nLayer * perLayer + norm + head;
}
