import { resolveConfig, SHAKESPEARE_CHAR, type GPTConfig, type ResolvedGPTConfig } from './config.js';

const gpt2Base = { vocabSize: 50257, blockSize: 1024, activation: 'gelu_tanh', bias: true, tieEmbeddings: true } as const;

/** Named model shapes: OpenAI's GPT-2 family and nanoGPT's Shakespeare-char recipe. */
export const PRESETS = {
  gpt2: { ...gpt2Base, nLayer: 12, nHead: 12, nEmbd: 768 },
  'gpt2-medium': { ...gpt2Base, nLayer: 24, nHead: 16, nEmbd: 1024 },
  'gpt2-large': { ...gpt2Base, nLayer: 36, nHead: 20, nEmbd: 1280 },
  'gpt2-xl': { ...gpt2Base, nLayer: 48, nHead: 25, nEmbd: 1600 },
  'shakespeare-char': { ...SHAKESPEARE_CHAR, vocabSize: 65 },
} as const satisfies Record<string, GPTConfig>;

export type PresetName = keyof typeof PRESETS;

/** The resolved config of a preset, with optional overrides (e.g. dropout, seed). */
export function presetConfig(name: PresetName, overrides: Partial<GPTConfig> = {}): ResolvedGPTConfig {
  const base = (PRESETS as Record<string, GPTConfig>)[name];
  if (!base) throw new Error(`Unknown preset "${name}": use one of ${Object.keys(PRESETS).join(', ')}.`);
  return resolveConfig({ ...base, ...overrides });
}

/**
 * Parameter count of a config without allocating anything (equals GPT.numParams()):
 * V·C + P·C (embeddings) + L·(2 LN + c_attn C·3C + c_proj C·C + FFN) + LN_f (+ V·C if untied).
 */
export function countParams(config: GPTConfig): number {
  const c = resolveConfig(config);
  const C = c.nEmbd;
  const H = c.ffnHidden;
  const b = c.bias ? 1 : 0;
  const ln = C + b * C; // γ (+ β)
  const attn = C * 3 * C + b * 3 * C + C * C + b * C;
  const branches = c.activation === 'swiglu' ? 2 : 1; // SwiGLU has a gate and an up projection
  const ffn = branches * (C * H + b * H) + H * C + b * C;
  const perLayer = 2 * ln + attn + ffn;
  const head = c.tieEmbeddings ? 0 : c.vocabSize * C;
  return c.vocabSize * C + c.blockSize * C + c.nLayer * perLayer + ln + head;
}
