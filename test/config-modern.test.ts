import { describe, expect, it } from 'vitest';
import { isGpt2Architecture, planLayer } from '../src/config/plan.js';
import { resolveConfig, type GPTConfig } from '../src/config/config.js';

const BASE: GPTConfig = { vocabSize: 5, nEmbd: 8, nHead: 2 };

describe('resolveConfig: Llama and Gemma options', () => {
  it('derives headDim, nKvHead, ropeLocalTheta and the layer pattern from the other fields', () => {
    const c = resolveConfig({ vocabSize: 5, nEmbd: 96, nHead: 6, nLayer: 4, position: 'rope', ropeTheta: 500000 });
    // headDim = 96/6 = 16; one KV head per query head; local layers take the global base when not given.
    expect([c.headDim, c.nKvHead, c.ropeTheta, c.ropeLocalTheta]).toEqual([16, 6, 500000, 500000]);
    expect([c.slidingWindow, c.localGlobalPattern]).toEqual([0, 0]);
    // A sliding window without a pattern makes every layer local: the pattern defaults to nLayer.
    expect(resolveConfig({ ...BASE, nLayer: 3, slidingWindow: 4 }).localGlobalPattern).toBe(3);
  });

  it('lets an explicit headDim decouple the head width from nEmbd / nHead', () => {
    // Gemma 3 1B: 4 heads of 256 on a 1152-wide stream (1152/4 = 288 ≠ 256).
    const c = resolveConfig({ vocabSize: 5, nEmbd: 1152, nHead: 4, nKvHead: 1, headDim: 256 });
    expect([c.headDim, c.nKvHead]).toEqual([256, 1]);
    // Without headDim, 100 is not a multiple of 3, and the message offers headDim as a way out.
    expect(() => resolveConfig({ vocabSize: 5, nEmbd: 100, nHead: 3 })).toThrow(/divisible by nHead \(3\).*or set headDim/);
    expect(() => resolveConfig({ vocabSize: 5, nEmbd: 100, nHead: 3, headDim: 32 })).not.toThrow();
  });

  it('sizes the GeGLU hidden layer like SwiGLU (8/3·nEmbd rounded up to 8)', () => {
    // 8·128/3 = 341.33 → ⌈42.67⌉·8 = 344
    expect(resolveConfig({ vocabSize: 5, nEmbd: 128, nHead: 4, activation: 'geglu' }).ffnHidden).toBe(344);
  });

  it('requires nKvHead to divide nHead and lists the divisors', () => {
    expect(() => resolveConfig({ ...BASE, nEmbd: 12, nHead: 6, nKvHead: 4 })).toThrow(
      /GPTConfig\.nHead \(6\) must be divisible by nKvHead \(4\).*use one of 1, 2, 3, 6\./,
    );
    // More KV heads than query heads cannot be shared out either: 2 % 4 = 2.
    expect(() => resolveConfig({ ...BASE, nKvHead: 4 })).toThrow(/nHead \(2\) must be divisible by nKvHead \(4\)/);
    for (const bad of [0, 1.5]) {
      expect(() => resolveConfig({ ...BASE, nKvHead: bad })).toThrow(new RegExp(`GPTConfig\\.nKvHead must be an integer >= 1, got ${bad}`));
    }
    expect(() => resolveConfig({ ...BASE, headDim: 0 })).toThrow(/GPTConfig\.headDim must be an integer >= 1, got 0/);
  });

  it('requires an even head width for RoPE', () => {
    // nEmbd 6, nHead 2 → headDim 3: fine with learned positions, not with rotations of pairs.
    expect(() => resolveConfig({ vocabSize: 5, nEmbd: 6, nHead: 2 })).not.toThrow();
    expect(() => resolveConfig({ vocabSize: 5, nEmbd: 6, nHead: 2, position: 'rope' })).toThrow(
      /GPTConfig\.headDim \(3\) must be even with position "rope"/,
    );
  });

  it('rejects RoPE bases that are not finite numbers above 1', () => {
    for (const bad of [1, 0, -5, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(() => resolveConfig({ ...BASE, ropeTheta: bad })).toThrow(/GPTConfig\.ropeTheta \(the RoPE base\) must be a finite number > 1/);
    }
    expect(() => resolveConfig({ ...BASE, ropeLocalTheta: 0.5 })).toThrow(/GPTConfig\.ropeLocalTheta .* got 0\.5/);
  });

  it('checks the sliding window and the local:global pattern', () => {
    expect(() => resolveConfig({ ...BASE, slidingWindow: -1 })).toThrow(/GPTConfig\.slidingWindow must be an integer >= 0, got -1/);
    expect(() => resolveConfig({ ...BASE, slidingWindow: 2.5 })).toThrow(/slidingWindow must be an integer/);
    expect(() => resolveConfig({ ...BASE, slidingWindow: 4, localGlobalPattern: -2 })).toThrow(
      /GPTConfig\.localGlobalPattern must be an integer >= 0, got -2/,
    );
    expect(() => resolveConfig({ ...BASE, localGlobalPattern: 5 })).toThrow(
      /GPTConfig\.localGlobalPattern \(5\) needs local layers: set slidingWindow > 0/,
    );
    expect(() => resolveConfig({ ...BASE, slidingWindow: 4, localGlobalPattern: 0 })).toThrow(
      /GPTConfig\.slidingWindow \(4\) would apply to no layer with localGlobalPattern 0/,
    );
  });

  it('rejects unknown norm and position kinds and non-boolean flags, naming the choices', () => {
    expect(() => resolveConfig({ ...BASE, norm: 'batchnorm' } as unknown as GPTConfig)).toThrow(
      /GPTConfig\.norm must be one of layernorm, rmsnorm, got "batchnorm"/,
    );
    expect(() => resolveConfig({ ...BASE, position: 'alibi' } as unknown as GPTConfig)).toThrow(
      /GPTConfig\.position must be one of learned, rope, got "alibi"/,
    );
    for (const k of ['qkNorm', 'sandwichNorm', 'scaleEmbeddings']) {
      expect(() => resolveConfig({ ...BASE, [k]: 'yes' } as unknown as GPTConfig)).toThrow(
        new RegExp(`GPTConfig\\.${k} must be true or false, got yes`),
      );
    }
  });
});

describe('layer pattern and layout', () => {
  it('marks every (k + 1)-th layer global with k local layers per global one (Gemma 3: k = 5)', () => {
    const c = resolveConfig({ ...BASE, nLayer: 26, position: 'rope', slidingWindow: 512, localGlobalPattern: 5, ropeTheta: 1e6, ropeLocalTheta: 1e4 });
    const globals = Array.from({ length: 26 }, (_, i) => i).filter((i) => planLayer(c, i).window === 0);
    // (i + 1) % 6 === 0 → i = 5, 11, 17, 23: 4 global layers and 22 local ones.
    expect(globals).toEqual([5, 11, 17, 23]);
    expect([planLayer(c, 0).ropeBase, planLayer(c, 5).ropeBase, planLayer(c, 6).ropeBase]).toEqual([1e4, 1e6, 1e4]);
  });

  it('has no local layers without a window, and only local ones with a window but no pattern', () => {
    const none = resolveConfig({ ...BASE, nLayer: 3 });
    const all = resolveConfig({ ...BASE, nLayer: 3, slidingWindow: 2 });
    expect([0, 1, 2].map((i) => planLayer(none, i).window > 0)).toEqual([false, false, false]);
    expect([0, 1, 2].map((i) => planLayer(all, i).window > 0)).toEqual([true, true, true]);
  });

  it('keeps GPT-2\'s layout only while every modern option is at its default', () => {
    expect(isGpt2Architecture(resolveConfig(BASE))).toBe(true);
    expect(isGpt2Architecture(resolveConfig({ ...BASE, activation: 'swiglu', bias: false }))).toBe(true);
    const modern: Array<Partial<GPTConfig>> = [
      { norm: 'rmsnorm' },
      { position: 'rope' },
      { nKvHead: 1 },
      { headDim: 6 },
      { qkNorm: true },
      { sandwichNorm: true },
      { scaleEmbeddings: true },
      { slidingWindow: 3 },
    ];
    for (const extra of modern) expect(isGpt2Architecture(resolveConfig({ ...BASE, ...extra })), JSON.stringify(extra)).toBe(false);
    // headDim equal to nEmbd / nHead is the default, so still GPT-2's layout.
    expect(isGpt2Architecture(resolveConfig({ ...BASE, headDim: 4 }))).toBe(true);
  });
});
