import * as tf from '@tensorflow/tfjs-core';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Decoder } from '../src/decode/decoder.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import { GPT } from '../src/model/gpt.js';
import { JsEngine } from '../src/ops/engine.js';
import { loadDecoder } from '../src/pretrained/hostModel.js';
import { DotEngine } from '../src/ops/dot/dotEngine.js';
import { GEMMA_TINY, LLAMA_TINY, randomizeModern } from './gemmaFixtures.js';

// The fixtures of test/pretrained-hf.test.ts: tiny random Llama- and Gemma-3-shaped Hugging Face
// folders with llama.cpp's next-token log-probabilities (bench/reference/make_llama_gemma_fixtures.ts).
interface Reference {
  input_ids: number[];
  log_probs: number[][];
  prompt: number[];
  greedy: number[];
}
const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
const reference = (name: string) => JSON.parse(readFileSync(join(fixture(name), 'llamacpp.json'), 'utf8')) as Reference;
const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-dot-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** ln softmax of logits (in float64). */
function logSoftmax(x: Float32Array): number[] {
  const m = Math.max(...x);
  const lse = m + Math.log(x.reduce((s, v) => s + Math.exp(v - m), 0));
  return Array.from(x, (v) => v - lse);
}

/** The decoder's log-probabilities after each of `ids`, fed one token at a time. */
function stepLogProbs(d: Decoder, ids: readonly number[]): number[][] {
  d.reset();
  return ids.map((id) => logSoftmax(d.feed([id])));
}

const maxAbsDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((r, i) => r.map((v, k) => Math.abs(v - b[i][k]))));
const argmax = (x: Float32Array) => x.reduce((best, v, i) => (v > x[best] ? i : best), 0);

/** A safetensors file of bfloat16 tensors, encoded by hand (tinygpt's writer stores F32 only). */
function bf16File(tensors: ReadonlyMap<string, { shape: readonly number[]; bits: Uint16Array }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const [n, t] of tensors) {
    header[n] = { dtype: 'BF16', shape: t.shape, data_offsets: [at, at + 2 * t.bits.length] };
    at += 2 * t.bits.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.bits.buffer, t.bits.byteOffset, t.bits.byteLength), p);
    p += t.bits.byteLength;
  }
  return out;
}

describe.each(['llama-tiny', 'gemma3-tiny'])('loadDecoder (DotEngine) on the %s Hugging Face folder', (name) => {
  const ref = reference(name);

  it("gives llama.cpp's next-token log-probabilities within 1e-4 and its greedy tokens, creating no tensor", async () => {
    const before = tf.memory().numTensors;
    const d = await loadDecoder(fixture(name));
    expect(maxAbsDiff(stepLogProbs(d, ref.input_ids), ref.log_probs)).toBeLessThanOrEqual(1e-4);
    d.reset();
    let next = argmax(d.feed(ref.prompt)); // the prompt at once: the multi-row kernel path
    const tokens = [next];
    while (tokens.length < ref.greedy.length) tokens.push((next = argmax(d.feed([next]))));
    expect(tokens).toEqual(ref.greedy);
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps bfloat16 weights as bfloat16 and computes what float32 copies of the same values give', async () => {
    const src = parseSafetensors(readFileSync(join(fixture(name), 'model.safetensors'))).tensors;
    // bfloat16 = a float32's top 16 bits; truncation is fine here, both folders hold the same values.
    const bits = (x: Float32Array) => Uint16Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length), (u) => u >>> 16);
    const asBf16 = new Map([...src].map(([n, t]) => [n, { shape: t.shape, bits: bits(t.data as Float32Array) }]));
    const [bf, f32] = [join(scratch, `${name}-bf16`), join(scratch, `${name}-bf16-as-f32`)];
    for (const d of [bf, f32]) cpSync(join(fixture(name), 'config.json'), join(d, 'config.json'));
    writeFileSync(join(bf, 'model.safetensors'), bf16File(asBf16));
    const values = (b: Uint16Array) => new Float32Array(Uint32Array.from(b, (u) => u << 16).buffer);
    writeFileSync(
      join(f32, 'model.safetensors'),
      serializeSafetensors(new Map([...asBf16].map(([n, t]) => [n, { shape: t.shape, data: values(t.bits) }]))),
    );
    const model = await GPT.fromPretrained(f32);
    const [dot, js] = [await loadDecoder(bf), new Decoder(model, new JsEngine())];
    const diff = maxAbsDiff(stepLogProbs(dot, ref.input_ids), stepLogProbs(js, ref.input_ids));
    expect(diff).toBeLessThan(1e-5);
    // The truncation itself moves the log-probs by far more, so the comparison has teeth.
    expect(maxAbsDiff(stepLogProbs(js, ref.input_ids), ref.log_probs)).toBeGreaterThan(1e-3);
    for (const d of [dot, js]) d.dispose();
    model.dispose();
  });
});

describe("the DotEngine under the Decoder on a GPT's own (float32 tensor) weights", () => {
  const configs = [
    [
      'GPT-2 style: biases, learned positions, tied head',
      { vocabSize: 13, blockSize: 40, nLayer: 2, nHead: 2, nEmbd: 16, bias: true, seed: 3 },
    ],
    ['Gemma-style', GEMMA_TINY],
    ['Llama-style, untied head', LLAMA_TINY],
  ] as const;
  for (const [name, config] of configs) {
    it(`${name}: the JS engine's logits within 1e-5, prompt and single tokens alike`, () => {
      const model = new GPT(config);
      randomizeModern(model, 3, 0.3);
      const [dot, js] = [new Decoder(model, new DotEngine()), new Decoder(model, new JsEngine())];
      const ids = Array.from({ length: Math.min(30, model.config.blockSize) }, (_, i) => (i * 5 + 1) % model.config.vocabSize);
      let worst = 0;
      for (const piece of [ids.slice(0, 7), ...ids.slice(7).map((id) => [id])]) {
        const [a, b] = [dot.feed(piece), js.feed(piece)];
        worst = Math.max(worst, ...a.map((v, i) => Math.abs(v - b[i])));
      }
      expect(worst).toBeLessThan(1e-5);
      dot.dispose();
      js.dispose();
      model.dispose();
    });
  }
});
