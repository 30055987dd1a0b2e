/** Activation of the feed-forward sublayer. */
export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'swiglu';

/** What a user may pass: every field but vocabSize has a default. */
export interface GPTConfig {
  /** Number of distinct tokens; the LM head's output size. */
  readonly vocabSize: number;
  /** Longest context the model sees (number of learned positions). */
  readonly blockSize?: number;
  /** Number of transformer blocks. */
  readonly nLayer?: number;
  /** Attention heads per block; must divide nEmbd. */
  readonly nHead?: number;
  /** Width d of the residual stream. */
  readonly nEmbd?: number;
  /** Feed-forward activation: exact GeLU x·Φ(x), GPT-2's tanh GeLU, ReLU or SwiGLU. */
  readonly activation?: Activation;
  /** Hidden width of the feed-forward sublayer (default 4·nEmbd; for SwiGLU, 8/3·nEmbd rounded up to 8). */
  readonly ffnHidden?: number;
  /** Dropout probability on attention weights and residual branches, in [0, 1). */
  readonly dropout?: number;
  /** Whether linear layers and LayerNorms carry a bias (offset β). */
  readonly bias?: boolean;
  /** Share the token embedding matrix with the LM head (GPT-2 does). */
  readonly tieEmbeddings?: boolean;
  /** LayerNorm epsilon. */
  readonly layerNormEps?: number;
  /** Seed for weight initialisation (and, in the trainer, for batches and dropout). */
  readonly seed?: number;
}

/** A config with every field filled and checked. */
export type ResolvedGPTConfig = Required<GPTConfig>;

/** nanoGPT's CPU recipe for Shakespeare (vocabSize is the corpus's); like nanoGPT's train.py, no biases. */
export const SHAKESPEARE_CHAR: Omit<ResolvedGPTConfig, 'vocabSize'> = {
  blockSize: 64,
  nLayer: 4,
  nHead: 4,
  nEmbd: 128,
  activation: 'gelu',
  ffnHidden: 512,
  dropout: 0,
  bias: false,
  tieEmbeddings: true,
  layerNormEps: 1e-5,
  seed: 1337,
};

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new Error(`GPTConfig.${name} must be an integer >= ${min}, got ${String(v)}.`);
  }
}

/** Fills defaults and validates; every error names the field and how to fix it. */
export function resolveConfig(config: GPTConfig): ResolvedGPTConfig {
  if (config == null || typeof config !== 'object') {
    throw new Error('GPTConfig must be an object with at least vocabSize.');
  }
  const nEmbd = config.nEmbd ?? 768;
  const activation = config.activation ?? 'gelu';
  const swigluHidden = 8 * Math.ceil((8 * nEmbd) / 3 / 8);
  const c: ResolvedGPTConfig = {
    vocabSize: config.vocabSize,
    blockSize: config.blockSize ?? 1024,
    nLayer: config.nLayer ?? 12,
    nHead: config.nHead ?? 12,
    nEmbd,
    activation,
    ffnHidden: config.ffnHidden ?? (activation === 'swiglu' ? swigluHidden : 4 * nEmbd),
    dropout: config.dropout ?? 0,
    bias: config.bias ?? true,
    tieEmbeddings: config.tieEmbeddings ?? true,
    layerNormEps: config.layerNormEps ?? 1e-5,
    seed: config.seed ?? 1337,
  };
  if (c.vocabSize === undefined) throw new Error('GPTConfig.vocabSize is required (the tokenizer\'s vocabulary size).');
  checkInt('vocabSize', c.vocabSize, 1);
  checkInt('blockSize', c.blockSize, 1);
  checkInt('nLayer', c.nLayer, 1);
  checkInt('nHead', c.nHead, 1);
  checkInt('nEmbd', c.nEmbd, 1);
  checkInt('ffnHidden', c.ffnHidden, 1);
  checkInt('seed', c.seed, 0);
  if (c.nEmbd % c.nHead !== 0) {
    throw new Error(
      `GPTConfig.nEmbd (${c.nEmbd}) must be divisible by nHead (${c.nHead}): ` +
        `choose nEmbd as a multiple of nHead, e.g. ${c.nHead * Math.max(1, Math.round(c.nEmbd / c.nHead))}.`,
    );
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) {
    throw new Error(`GPTConfig.dropout must be in [0, 1), got ${String(c.dropout)}.`);
  }
  if (!(c.layerNormEps > 0)) throw new Error(`GPTConfig.layerNormEps must be > 0, got ${String(c.layerNormEps)}.`);
  const acts: readonly Activation[] = ['gelu', 'gelu_tanh', 'relu', 'swiglu'];
  if (!acts.includes(c.activation)) {
    throw new Error(`GPTConfig.activation must be one of ${acts.join(', ')}, got "${String(c.activation)}".`);
  }
  for (const k of ['bias', 'tieEmbeddings'] as const) {
    if (typeof c[k] !== 'boolean') throw new Error(`GPTConfig.${k} must be true or false, got ${String(c[k])}.`);
  }
  return Object.freeze(c);
}
