import { describe, expect, it } from 'vitest';
import { resolveConfig, SHAKESPEARE_CHAR, type GPTConfig } from '../src/config/config.js';

describe('resolveConfig', () => {
  it('fills GPT-2 small defaults around the vocabulary size', () => {
    const c = resolveConfig({ vocabSize: 50257 });
    expect(c).toEqual({
      vocabSize: 50257,
      blockSize: 1024,
      nLayer: 12,
      nHead: 12,
      nEmbd: 768,
      activation: 'gelu',
      ffnHidden: 3072, // 4·768
      dropout: 0,
      bias: true,
      tieEmbeddings: true,
      layerNormEps: 1e-5,
      seed: 1337,
      // The modern options default to GPT-2's architecture.
      norm: 'layernorm',
      position: 'learned',
      ropeTheta: 10000,
      ropeLocalTheta: 10000,
      nKvHead: 12,
      headDim: 64, // 768/12
      qkNorm: false,
      sandwichNorm: false,
      scaleEmbeddings: false,
      slidingWindow: 0,
      localGlobalPattern: 0,
      attnScale: 1 / Math.sqrt(64), // 1/√headDim, headDim = 768 / 12 = 64
      ropeScale: 1,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('keeps explicit values, including falsy ones', () => {
    const c = resolveConfig({ vocabSize: 65, bias: false, tieEmbeddings: false, dropout: 0.2, seed: 0, ffnHidden: 100 });
    expect([c.bias, c.tieEmbeddings, c.dropout, c.seed, c.ffnHidden]).toEqual([false, false, 0.2, 0, 100]);
  });

  it('sizes the SwiGLU hidden layer as 8/3·nEmbd rounded up to a multiple of 8', () => {
    // 8·768/3 = 2048 exactly; 8·128/3 = 341.33 → ⌈341.33/8⌉ = 43 → 344; 8·8/3 = 21.33 → 3·8 = 24
    expect(resolveConfig({ vocabSize: 5, activation: 'swiglu' }).ffnHidden).toBe(2048);
    expect(resolveConfig({ vocabSize: 5, activation: 'swiglu', nEmbd: 128, nHead: 4 }).ffnHidden).toBe(344);
    expect(resolveConfig({ vocabSize: 5, activation: 'swiglu', nEmbd: 8, nHead: 2 }).ffnHidden).toBe(24);
    expect(resolveConfig({ vocabSize: 5, activation: 'swiglu', nEmbd: 8, nHead: 2, ffnHidden: 16 }).ffnHidden).toBe(16);
  });

  it('accepts the Shakespeare character recipe as is', () => {
    const c = resolveConfig({ ...SHAKESPEARE_CHAR, vocabSize: 65 });
    expect(c).toMatchObject({ ...SHAKESPEARE_CHAR, vocabSize: 65 });
    expect([c.headDim, c.nKvHead, c.norm, c.position]).toEqual([32, 4, 'layernorm', 'learned']); // 128/4 = 32
  });

  it('derives headDim and nKvHead from an overridden recipe, not from the recipe\'s own shape', () => {
    // The recipe carries no headDim or nKvHead, so nHead 8 gives 8 KV heads of 128/8 = 16.
    const c = resolveConfig({ ...SHAKESPEARE_CHAR, vocabSize: 65, nHead: 8 });
    expect([c.headDim, c.nKvHead]).toEqual([16, 8]);
    expect('headDim' in SHAKESPEARE_CHAR || 'nKvHead' in SHAKESPEARE_CHAR).toBe(false);
  });

  it('requires vocabSize and an object', () => {
    expect(() => resolveConfig({} as GPTConfig)).toThrow(/GPTConfig\.vocabSize is required/);
    expect(() => resolveConfig(undefined as unknown as GPTConfig)).toThrow(/must be an object with at least vocabSize/);
  });

  it('rejects nEmbd not divisible by nHead and suggests a multiple', () => {
    // 100/12 = 8.33 → nearest multiple 12·8 = 96
    expect(() => resolveConfig({ vocabSize: 5, nEmbd: 100, nHead: 12 })).toThrow(
      /GPTConfig\.nEmbd \(100\) must be divisible by nHead \(12\).*multiple of nHead, e\.g\. 96, or set headDim/,
    );
    // more heads than width: the suggestion is one dimension per head, 8·1 = 8
    expect(() => resolveConfig({ vocabSize: 5, nEmbd: 4, nHead: 8 })).toThrow(/e\.g\. 8\b/);
  });

  const sizes = ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd', 'ffnHidden'] as const;
  it.each(sizes)('rejects zero, negative and non-integer %s, naming the field', (field) => {
    for (const bad of [0, -3, 2.5, Number.NaN]) {
      const cfg = { vocabSize: 5, nEmbd: 8, nHead: 2, [field]: bad } as GPTConfig;
      expect(() => resolveConfig(cfg)).toThrow(new RegExp(`GPTConfig\\.${field} must be an integer >= 1, got ${bad}`));
    }
  });

  it('rejects a negative or fractional seed', () => {
    expect(() => resolveConfig({ vocabSize: 5, seed: -1 })).toThrow(/GPTConfig\.seed must be an integer >= 0, got -1/);
    expect(() => resolveConfig({ vocabSize: 5, seed: 0.5 })).toThrow(/GPTConfig\.seed must be an integer >= 0/);
  });

  it.each([-0.1, 1, 1.5, Number.NaN])('rejects dropout %s outside [0, 1)', (dropout) => {
    expect(() => resolveConfig({ vocabSize: 5, dropout })).toThrow(/GPTConfig\.dropout must be in \[0, 1\)/);
  });

  it('rejects an unknown activation, listing the valid ones', () => {
    const cfg = { vocabSize: 5, activation: 'tanh' } as unknown as GPTConfig;
    expect(() => resolveConfig(cfg)).toThrow(
      /GPTConfig\.activation must be one of gelu, gelu_tanh, relu, swiglu, geglu, got "tanh"/,
    );
  });

  it('rejects a non-positive layerNormEps and non-boolean flags', () => {
    expect(() => resolveConfig({ vocabSize: 5, layerNormEps: 0 })).toThrow(/GPTConfig\.layerNormEps must be > 0, got 0/);
    const bias = { vocabSize: 5, bias: 'yes' } as unknown as GPTConfig;
    expect(() => resolveConfig(bias)).toThrow(/GPTConfig\.bias must be true or false, got yes/);
    const tie = { vocabSize: 5, tieEmbeddings: 1 } as unknown as GPTConfig;
    expect(() => resolveConfig(tie)).toThrow(/GPTConfig\.tieEmbeddings must be true or false, got 1/);
  });
});
