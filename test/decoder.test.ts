import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArenaKVCache, attendRows, storeKV } from '../src/decode/attention.js';
import { attendBlock, attendStacked, productScratch } from '../src/decode/productAttention.js';
import { Decoder } from '../src/decode/decoder.js';
import { JsEngine, type MatMulEngine } from '../src/ops/engine.js';
import { XnnpackEngine } from '../src/ops/wasm/xnnpackEngine.js';
import { type GPTConfig } from '../src/config/config.js';
import { GPT } from '../src/model/gpt.js';
import { isGpt2Architecture } from '../src/config/plan.js';
import type { LanguageModel } from '../src/model/types.js';
import { GEMMA_TINY, LLAMA_TINY, randomizeModern } from './gemmaFixtures.js';
import { contextStepper, nextLogits } from '../src/sample/context.js';
import { generateAll } from '../src/sample/generate.js';
import { expectClose, maxDiff, randomTokens } from './helpers.js';

/** Weights ×3 and biases +0.3: far enough from init that attention is peaked and every bias matters. */
function perturb(model: GPT): void {
  tf.tidy(() => {
    for (const [name, v] of model.namedWeights()) v.assign(tf.add(tf.mul(v, 3), name.endsWith('.bias') ? 0.3 : 0));
  });
}

const TINY: GPTConfig = { vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, seed: 11 };
const ids = randomTokens(4, 30, 13);

describe('decoder attention by hand', () => {
  // One head, hs = 2, scale 1/√2. Keys k0 = (1, 0), k1 = (0, 1); values v0 = (1, 2), v1 = (3, 4).
  // q = (√2·ln 3, 0): scores q·k/√2 = (ln 3, 0), softmax = (3/4, 1/4),
  // so the query at position 1 gets 3/4·(1, 2) + 1/4·(3, 4) = (1.5, 2.5); at position 0 only v0 = (1, 2).
  const q = [Math.SQRT2 * Math.log(3), 0];
  /** Engines to check: JS loops always, XNNPACK on the wasm backend. */
  const engines = (): MatMulEngine[] => {
    const xnn = XnnpackEngine.create();
    return xnn ? [new JsEngine(), xnn] : [new JsEngine()];
  };

  /** An arena with qkv rows (2, 3C), C = 2, at o, the output (2, C) at o + 12, the cache at o + 16, scratch after. */
  function setup(engine: MatMulEngine, nHead: number, qRow = q) {
    const shape = { nHead, nKvHead: nHead, headDim: 2 / nHead, scale: 1 / Math.sqrt(2 / nHead) };
    const kvFloats = ArenaKVCache.floats(1, shape, 4);
    const o = engine.reserve(productScratch(16 + kvFloats, 2, 4, shape).end);
    const cache = new ArenaKVCache(1, shape, 4, o + 16);
    const { scratch } = productScratch(o + 16 + kvFloats, 2, 4, shape);
    engine.heap().set([...qRow, 1, 0, 1, 2, ...qRow, 0, 1, 3, 4], o);
    storeKV(cache, 0, engine.heap(), o, 2, 0);
    const output = () => engine.heap().slice(o + 12, o + 16);
    return { cache, scratch, o, output };
  }

  it('attendRows: one query at a time, in plain loops', () => {
    const engine = new JsEngine();
    const { cache, o, output } = setup(engine, 1);
    attendRows({ cache, layer: 0, window: 0, qkv: o, out: o + 12, rows: 2, start: 0 }, engine.heap(), new Float64Array(4));
    expectClose(output(), [1, 2, 1.5, 2.5], 1e-6);
  });

  it('attendBlock: both queries as two products, the causal mask zeroing key 1 for query 0', () => {
    for (const engine of engines()) {
      const { cache, scratch, o, output } = setup(engine, 1);
      attendBlock(engine, { cache, layer: 0, window: 0, qkv: o, out: o + 12, rows: 2, start: 0 }, scratch);
      expectClose(output(), [1, 2, 1.5, 2.5], 1e-6);
      engine.dispose();
    }
  });

  it('attendStacked: every head at once; with two heads of width 1 each head attends on its own', () => {
    for (const engine of engines()) {
      const one = setup(engine, 1);
      attendStacked(engine, { cache: one.cache, layer: 0, window: 0, qkv: one.o, out: one.o + 12, rows: 2, start: 0 }, one.scratch);
      expectClose(one.output(), [1, 2, 1.5, 2.5], 1e-6);
      engine.dispose();
    }
    // Two heads, hs = 1, scale 1: head 0 has q = ln 3, keys (1, 0), values (1, 3); head 1 has
    // q = 0, keys (0, 1), values (2, 4). Position 1: head 0 scores (ln 3, 0), weights (3, 1)/4 → 1.5;
    // head 1 scores (0, 0), weights (1/2, 1/2) → 3. Position 0: the first values, (1, 2).
    for (const engine of engines()) {
      const two = setup(engine, 2, [Math.log(3), 0]);
      attendStacked(engine, { cache: two.cache, layer: 0, window: 0, qkv: two.o, out: two.o + 12, rows: 2, start: 0 }, two.scratch);
      expectClose(two.output(), [1, 2, 1.5, 3], 1e-6);
      if (!engine.fastProducts) {
        attendRows({ cache: two.cache, layer: 0, window: 0, qkv: two.o, out: two.o + 12, rows: 2, start: 0 }, engine.heap(), new Float64Array(4));
        expectClose(two.output(), [1, 2, 1.5, 3], 1e-6);
      }
      engine.dispose();
    }
  });
});

describe('Decoder', () => {
  const configs: Array<[string, GPTConfig]> = [
    ['gelu, biases, tied head', { ...TINY, bias: true }],
    ['tanh GeLU, no biases, separate head', { ...TINY, bias: false, activation: 'gelu_tanh', tieEmbeddings: false }],
    ['ReLU', { ...TINY, activation: 'relu' }],
    ['SwiGLU', { ...TINY, activation: 'swiglu', bias: true }],
    ['GeGLU', { ...TINY, activation: 'geglu' }],
    // Gemma 3 in miniature: RMSNorm, sandwich norms, QK-norm, RoPE (two bases), GQA 4 on 2,
    // heads of 6 on a width of 8, sliding windows of 3 keys, scaled embeddings.
    ['Gemma-style', GEMMA_TINY],
    // Llama in miniature with LayerNorm and biases: RoPE, multi-query attention, SwiGLU, untied head.
    ['Llama-style', LLAMA_TINY],
    ['RMSNorm with learned positions and heads of 6 on a width of 16', { ...TINY, norm: 'rmsnorm', headDim: 6 }],
  ];
  for (const [name, config] of configs) {
    it(`${name}: logits equal a full forward pass within 1e-5 at every step, past blockSize`, () => {
      const model = new GPT(config);
      if (isGpt2Architecture(model.config)) perturb(model);
      else randomizeModern(model, 3, 0.3);
      const ids = randomTokens(4, 30, model.config.vocabSize);
      const before = tf.memory().numTensors;
      for (const shift of [1, 3, 8]) {
        const fast = contextStepper(model, shift, true, { fastDecoder: true });
        const full = contextStepper(model, shift, false);
        let spread = 0;
        for (let len = 1; len <= ids.length; len++) {
          const [a, b] = [fast.next(ids.slice(0, len)), full.next(ids.slice(0, len))];
          expect(fast.start).toBe(full.start);
          expect(maxDiff(a, b)).toBeLessThan(1e-5);
          spread = Math.max(spread, Math.max(...b) - Math.min(...b));
        }
        expect(spread).toBeGreaterThan(1); // the logits are far from flat, so the comparison has teeth
        fast.dispose();
        full.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }

  it('reads a prompt longer than its 64-row chunk, and prompts of every length, as the full pass does', () => {
    const model = new GPT({ ...TINY, blockSize: 80, nEmbd: 8 });
    perturb(model);
    const long = Array.from({ length: 75 }, (_, i) => (i * 7) % 13);
    const d = new Decoder(model, new JsEngine());
    for (const n of [1, 3, 4, 5, 64, 65, 75]) {
      d.reset();
      expect(maxDiff(d.feed(long.slice(0, n)), nextLogits(model, long.slice(0, n)))).toBeLessThan(1e-5);
      expect(d.length).toBe(n);
    }
    // Appending in uneven pieces (row path for 1-3 new rows, product path from 4) changes nothing.
    d.reset();
    let last: Float32Array = new Float32Array(0);
    for (const piece of [[0, 5], [5, 6], [6, 13], [13, 15], [15, 75]]) last = d.feed(long.slice(...piece));
    expect(maxDiff(last, nextLogits(model, long))).toBeLessThan(1e-5);
    d.dispose();
    model.dispose();
  });

  it('rejects what it cannot run with messages that say what to do', async () => {
    const model = new GPT(TINY);
    const d = new Decoder(model);
    expect(() => d.feed([])).toThrow(/pass at least one token id/);
    expect(() => d.feed([13])).toThrow(/token id 13 is not an integer in \[0, 13\)/);
    d.feed([1, 2, 3, 4, 5, 6]);
    expect(() => d.feed([1, 2, 3])).toThrow(/6 cached \+ 3 new positions exceed blockSize 8; reset\(\) and feed the last tokens/);
    d.dispose();
    expect(() => d.feed([1])).toThrow(/Decoder: disposed/);
    // Any LanguageModel can generate; one without a stepper() re-reads its window each token.
    const other: LanguageModel = {
      config: model.config,
      forward: (x) => model.forward(x),
      loss: (x, y) => model.loss(x, y),
      namedWeights: () => model.namedWeights(),
      numParams: () => model.numParams(),
      dispose: () => {},
    };
    await expect(generateAll(other, [1], { maxNewTokens: 1, fastDecoder: true })).rejects.toThrow(
      /fastDecoder needs a model with stepper\(\)/,
    );
    expect(await generateAll(other, [1], { maxNewTokens: 3, temperature: 0 })).toEqual(await generateAll(model, [1], { maxNewTokens: 3, temperature: 0 }));
    const gone = new GPT(TINY);
    gone.dispose();
    expect(() => new Decoder(gone)).toThrow(/This GPT has been disposed; create or load a new one/);
    await expect(generateAll(gone, [1], { maxNewTokens: 1 })).rejects.toThrow(/This GPT has been disposed/);
    model.dispose();
  });

  it('notices weights changed under it (training between tokens) and rebuilds from the new ones', () => {
    const model = new GPT(TINY);
    perturb(model);
    const stepper = contextStepper(model, 3, true, { fastDecoder: true });
    stepper.next(ids.slice(0, 4));
    const d = new Decoder(model);
    expect(d.isCurrent()).toBe(true);
    // New values at the same scale; assign() gives every weight a new buffer, as an optimizer step does.
    tf.tidy(() => model.namedWeights().forEach((v) => v.assign(tf.neg(v))));
    expect(d.isCurrent()).toBe(false);
    expect(() => d.feed([1])).toThrow(/weights changed since it was built/);
    expect(maxDiff(stepper.next(ids.slice(0, 5)), nextLogits(model, ids.slice(0, 5)))).toBeLessThan(1e-5);
    stepper.dispose();
    d.dispose();
    model.dispose();
  });
});

describe('generate on the decoder', () => {
  let model: GPT;
  beforeAll(() => {
    model = new GPT(TINY);
    perturb(model);
  });
  afterAll(() => model.dispose());

  it('gives the tokens of the tensor cache and of full re-reads, sampled and greedy', async () => {
    for (const opts of [{ maxNewTokens: 40, doSample: true, temperature: 0.9, seed: 7, contextShift: 3 }, { maxNewTokens: 25 }]) {
      const fast = await generateAll(model, [1, 2, 3], { ...opts, fastDecoder: true });
      expect(fast).toEqual(await generateAll(model, [1, 2, 3], { ...opts, fastDecoder: false }));
      expect(fast).toEqual(await generateAll(model, [1, 2, 3], { ...opts, cache: false }));
    }
  });

  it('keeps numTensors flat over 1,000 tokens and rejects a non-boolean fastDecoder', async () => {
    const before = tf.memory().numTensors;
    expect(await generateAll(model, [5], { maxNewTokens: 1000, doSample: true, seed: 1, fastDecoder: true })).toHaveLength(1000);
    expect(tf.memory().numTensors).toBe(before);
    await expect(generateAll(model, [1], { maxNewTokens: 1, fastDecoder: 'yes' as unknown as boolean })).rejects.toThrow(
      /fastDecoder must be true or false, got yes/,
    );
  });

  it('frees its wasm memory: 30 decoders built and disposed leave the heap where one left it', async () => {
    if (tf.getBackend() !== 'wasm') return; // the JS engine holds ordinary arrays
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPF32: Float32Array } }).wasm.HEAPF32.length;
    const big = new GPT({ ...TINY, blockSize: 64, nEmbd: 64, nHead: 4 });
    new Decoder(big).dispose();
    const size = heap();
    for (let i = 0; i < 30; i++) {
      const d = new Decoder(big);
      d.feed(Array.from({ length: 40 }, (_, j) => j % 13)); // packs every weight
      d.dispose();
    }
    expect(heap()).toBe(size);
    big.dispose();
  });
});
