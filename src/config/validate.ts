import type { Activation, NormKind, PositionKind, ResolvedGPTConfig } from './config.js';

const ACTIVATIONS: readonly Activation[] = ['gelu', 'gelu_tanh', 'relu', 'swiglu', 'geglu'];
const NORMS: readonly NormKind[] = ['layernorm', 'rmsnorm'];
const POSITIONS: readonly PositionKind[] = ['learned', 'rope'];

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new Error(`GPTConfig.${name} must be an integer >= ${min}, got ${String(v)}.`);
  }
}

function checkOneOf<T extends string>(name: string, v: T, allowed: readonly T[]): void {
  if (!allowed.includes(v)) {
    throw new Error(`GPTConfig.${name} must be one of ${allowed.join(', ')}, got "${String(v)}".`);
  }
}

/** The divisors of n, for suggesting a valid nKvHead. */
function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

/**
 * Checks a config whose defaults are filled in; throws an Error naming the field and the fix.
 * `explicitHeadDim` says whether headDim was given, in which case nEmbd need not be a multiple of nHead.
 */
export function validateConfig(c: ResolvedGPTConfig, explicitHeadDim: boolean): void {
  if (c.vocabSize === undefined) throw new Error('GPTConfig.vocabSize is required (the tokenizer\'s vocabulary size).');
  checkInt('vocabSize', c.vocabSize, 1);
  checkInt('blockSize', c.blockSize, 1);
  checkInt('nLayer', c.nLayer, 1);
  checkInt('nHead', c.nHead, 1);
  checkInt('nEmbd', c.nEmbd, 1);
  checkInt('ffnHidden', c.ffnHidden, 1);
  checkInt('seed', c.seed, 0);
  if (!explicitHeadDim && c.nEmbd % c.nHead !== 0) {
    throw new Error(
      `GPTConfig.nEmbd (${c.nEmbd}) must be divisible by nHead (${c.nHead}): ` +
        `choose nEmbd as a multiple of nHead, e.g. ${c.nHead * Math.max(1, Math.round(c.nEmbd / c.nHead))}, or set headDim.`,
    );
  }
  checkInt('headDim', c.headDim, 1);
  checkInt('nKvHead', c.nKvHead, 1);
  if (c.nHead % c.nKvHead !== 0) {
    throw new Error(
      `GPTConfig.nHead (${c.nHead}) must be divisible by nKvHead (${c.nKvHead}), since each key/value head serves ` +
        `an equal group of query heads: use one of ${divisors(c.nHead).join(', ')}.`,
    );
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) {
    throw new Error(`GPTConfig.dropout must be in [0, 1), got ${String(c.dropout)}.`);
  }
  if (!(c.layerNormEps > 0)) throw new Error(`GPTConfig.layerNormEps must be > 0, got ${String(c.layerNormEps)}.`);
  checkOneOf('activation', c.activation, ACTIVATIONS);
  checkOneOf('norm', c.norm, NORMS);
  checkOneOf('position', c.position, POSITIONS);
  for (const k of ['bias', 'tieEmbeddings', 'qkNorm', 'sandwichNorm', 'scaleEmbeddings'] as const) {
    if (typeof c[k] !== 'boolean') throw new Error(`GPTConfig.${k} must be true or false, got ${String(c[k])}.`);
  }
  for (const k of ['ropeTheta', 'ropeLocalTheta'] as const) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 1) {
      throw new Error(`GPTConfig.${k} (the RoPE base) must be a finite number > 1, got ${String(v)}; Llama uses 10000.`);
    }
  }
  if (c.position === 'rope' && c.headDim % 2 !== 0) {
    throw new Error(
      `GPTConfig.headDim (${c.headDim}) must be even with position "rope", which rotates pairs of features: ` +
        `choose nEmbd / nHead or headDim even.`,
    );
  }
  for (const k of ['attnScale', 'ropeScale'] as const) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new Error(`GPTConfig.${k} must be a finite number > 0, got ${String(v)}; leave it out for the default.`);
    }
  }
  checkInt('slidingWindow', c.slidingWindow, 0);
  checkInt('localGlobalPattern', c.localGlobalPattern, 0);
  if (c.localGlobalPattern > 0 && c.slidingWindow === 0) {
    throw new Error(
      `GPTConfig.localGlobalPattern (${c.localGlobalPattern}) needs local layers: set slidingWindow > 0 ` +
        `(e.g. 512, as Gemma 3) or leave localGlobalPattern out.`,
    );
  }
  if (c.slidingWindow > 0 && c.localGlobalPattern === 0) {
    throw new Error(
      `GPTConfig.slidingWindow (${c.slidingWindow}) would apply to no layer with localGlobalPattern 0 (every layer global): ` +
        `set localGlobalPattern > 0 (e.g. 5 for five local layers per global one) or leave it out (every layer local).`,
    );
  }
}
