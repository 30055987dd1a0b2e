import { resolveConfig, SHAKESPEARE_CHAR, type GPTConfig, type ResolvedGPTConfig } from './config.js';

export { countParams } from './countParams.js';

const gpt2Base = { vocabSize: 50257, blockSize: 1024, activation: 'gelu_tanh', bias: true, tieEmbeddings: true } as const;

/**
 * Gemma 3's decoder recipe (Gemma Team 2025): RMSNorm before and after each sublayer, GeGLU,
 * RMSNorm on q and k, RoPE with base 10k on sliding-window layers and 1M on global ones,
 * five local layers per global one, embeddings scaled by √d, no biases, tied head.
 */
const gemma3Base = {
  activation: 'geglu',
  norm: 'rmsnorm',
  position: 'rope',
  ropeTheta: 1_000_000,
  ropeLocalTheta: 10_000,
  localGlobalPattern: 5,
  qkNorm: true,
  sandwichNorm: true,
  scaleEmbeddings: true,
  bias: false,
  tieEmbeddings: true,
  layerNormEps: 1e-6,
} as const;

/**
 * Named model shapes: OpenAI's GPT-2 family, nanoGPT's Shakespeare-char recipe, Gemma 3 1B, and
 * two character-level models of the Shakespeare recipe's size in the Llama and Gemma 3 styles.
 */
export const PRESETS = {
  gpt2: { ...gpt2Base, nLayer: 12, nHead: 12, nEmbd: 768 },
  'gpt2-medium': { ...gpt2Base, nLayer: 24, nHead: 16, nEmbd: 1024 },
  'gpt2-large': { ...gpt2Base, nLayer: 36, nHead: 20, nEmbd: 1280 },
  'gpt2-xl': { ...gpt2Base, nLayer: 48, nHead: 25, nEmbd: 1600 },
  'shakespeare-char': { ...SHAKESPEARE_CHAR, vocabSize: 65 },
  // Gemma 3 1B: 4 query heads sharing 1 key/value head (MQA) of width 256; FFN 6912 per branch.
  'gemma3-1b': {
    ...gemma3Base,
    vocabSize: 262_144,
    blockSize: 32_768,
    nLayer: 26,
    nHead: 4,
    nKvHead: 1,
    headDim: 256,
    nEmbd: 1152,
    ffnHidden: 6912,
    slidingWindow: 512,
  },
  // The Shakespeare-char budget (4 layers of width 128, ~0.8M parameters) in Gemma 3's style:
  // 3 local layers (window 16) then 1 global, MQA, GeGLU 408 per branch (801,280 parameters).
  'gemma3-tiny': {
    ...gemma3Base,
    vocabSize: 65,
    blockSize: 64,
    nLayer: 4,
    nHead: 4,
    nKvHead: 1,
    nEmbd: 128,
    ffnHidden: 408,
    slidingWindow: 16,
    localGlobalPattern: 3,
    seed: 1337,
  },
  // Llama's decoder at the Shakespeare-char size: RMSNorm, RoPE, SwiGLU, 4 query heads on 2 key/value heads, no biases.
  'llama-tiny': {
    vocabSize: 65,
    blockSize: 64,
    nLayer: 4,
    nHead: 4,
    nKvHead: 2,
    nEmbd: 128,
    activation: 'swiglu',
    norm: 'rmsnorm',
    position: 'rope',
    ropeTheta: 10_000,
    bias: false,
    tieEmbeddings: true,
    seed: 1337,
  },
} as const satisfies Record<string, GPTConfig>;

export type PresetName = keyof typeof PRESETS;

/** The resolved config of a preset, with optional overrides (e.g. dropout, seed). */
export function presetConfig(name: PresetName, overrides: Partial<GPTConfig> = {}): ResolvedGPTConfig {
  const base = (PRESETS as Record<string, GPTConfig>)[name];
  if (!base) throw new Error(`Unknown preset "${name}": use one of ${Object.keys(PRESETS).join(', ')}.`);
  return resolveConfig({ ...base, ...overrides });
}
