import * as tf from '@tensorflow/tfjs-core';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Decoder } from '../src/decode/decoder.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import { GPT } from '../src/model/gpt.js';

// Tiny random Llama- and Gemma-3-shaped Hugging Face folders and llama.cpp's next-token
// log-probabilities and greedy tokens for them, made by bench/reference/make_llama_gemma_fixtures.ts
// (node-llama-cpp 3.21.1 on a GGUF of the same weights). llama.cpp gives the distribution, so
// logits are compared as ln softmax (logits up to their per-position constant).
interface Reference {
  input_ids: number[];
  log_probs: number[][];
  prompt: number[];
  greedy: number[];
}
const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
const reference = (name: string) => JSON.parse(readFileSync(join(fixture(name), 'llamacpp.json'), 'utf8')) as Reference;
const scratch = mkdtempSync(join(tmpdir(), 'tinygpt-hf-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function logProbs(model: GPT, ids: number[]): Promise<number[][]> {
  const out = tf.tidy(() => tf.logSoftmax(model.forward(tf.tensor2d([ids], undefined, 'int32'))));
  const rows = ((await out.array()) as number[][][])[0];
  out.dispose();
  return rows;
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((r, i) => r.forEach((v, k) => (m = Math.max(m, Math.abs(v - b[i][k])))));
  return m;
}

/** Greedy decoding by full forward passes: argmax of the last position, appended, n times. */
async function greedy(model: GPT, prompt: number[], n: number): Promise<number[]> {
  const ids = [...prompt];
  for (let i = 0; i < n; i++) {
    const last = (await logProbs(model, ids)).at(-1)!;
    ids.push(last.indexOf(Math.max(...last)));
  }
  return ids.slice(prompt.length);
}

describe.each(['llama-tiny', 'gemma3-tiny'])('GPT.fromPretrained on the %s Hugging Face folder', (name) => {
  const ref = reference(name);

  it('gives llama.cpp\'s next-token log-probabilities within 1e-4 and its greedy tokens', async () => {
    const before = tf.memory().numTensors;
    const model = await GPT.fromPretrained(fixture(name));
    expect(maxAbsDiff(await logProbs(model, ref.input_ids), ref.log_probs)).toBeLessThanOrEqual(1e-4);
    expect(await greedy(model, ref.prompt, ref.greedy.length)).toEqual(ref.greedy);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('steps the tensor-free Decoder one token at a time to the same log-probabilities', async () => {
    const model = await GPT.fromPretrained(fixture(name));
    const decoder = new Decoder(model);
    const rows = ref.input_ids.map((id) => {
      const logits = Array.from(decoder.feed([id]));
      const top = Math.max(...logits);
      const lse = top + Math.log(logits.reduce((s, v) => s + Math.exp(v - top), 0));
      return logits.map((v) => v - lse); // ln softmax
    });
    expect(maxAbsDiff(rows, ref.log_probs)).toBeLessThanOrEqual(1e-4);
    decoder.dispose();
    model.dispose();
  });

  it('round-trips through savePretrained({ format: "hf" }): same config keys, names, values and logits', async () => {
    const model = await GPT.fromPretrained(fixture(name));
    const dir = join(scratch, `${name}-roundtrip`);
    await model.savePretrained(dir, { format: 'hf' });
    const original = JSON.parse(readFileSync(join(fixture(name), 'config.json'), 'utf8')) as Record<string, unknown>;
    const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['model_type', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'rms_norm_eps', 'rope_theta', 'tie_word_embeddings', 'max_position_embeddings', 'vocab_size', 'rope_local_base_freq', 'sliding_window', 'layer_types', 'query_pre_attn_scalar']) {
      expect([key, saved[key]]).toEqual([key, original[key]]);
    }
    // The same HF tensor names with the same values. A Gemma norm w comes back as fl(1 + w) − 1,
    // which drops the bits of w below float32's precision at 1 (|Δw| <= 2^-24): the gain γ = 1 + w is identical.
    const a = parseSafetensors(readFileSync(join(fixture(name), 'model.safetensors'))).tensors;
    const b = parseSafetensors(readFileSync(join(dir, 'model.safetensors'))).tensors;
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, t] of a) {
      expect(b.get(k)!.shape).toEqual(t.shape);
      const gain = name.startsWith('gemma') && k.endsWith('norm.weight');
      const view = (x: ArrayLike<number>) => (gain ? Array.from(Float32Array.from(x, (w) => 1 + w)) : Array.from(x));
      expect(maxAbsDiff([view(b.get(k)!.data)], [view(t.data)])).toBe(0);
    }
    const again = await GPT.fromPretrained(dir);
    expect(maxAbsDiff(await logProbs(again, ref.input_ids), await logProbs(model, ref.input_ids))).toBe(0);
    again.dispose();
    model.dispose();
  });
});

describe('what the Gemma 3 fixture exercises', () => {
  const ref = reference('gemma3-tiny');

  it('misses llama.cpp by far more than 1e-4 without the sliding window or without the FFN', async () => {
    // All layers global: the sliding-window layers see keys they should not.
    const dir = join(scratch, 'gemma-no-window');
    cpSync(fixture('gemma3-tiny'), dir, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, layer_types: Array(4).fill('full_attention') }));
    const global = await GPT.fromPretrained(dir);
    expect(maxAbsDiff(await logProbs(global, ref.input_ids), ref.log_probs)).toBeGreaterThan(1e-3);
    global.dispose();
    // The FFN (kept small in this fixture, see bench/reference/README.md) still matters by > 1e-3.
    const model = await GPT.fromPretrained(fixture('gemma3-tiny'));
    for (const [n, v] of model.namedWeights()) if (n.endsWith('mlp.c_proj.weight')) tf.tidy(() => v.assign(tf.zerosLike(v)));
    expect(maxAbsDiff(await logProbs(model, ref.input_ids), ref.log_probs)).toBeGreaterThan(1e-3);
    model.dispose();
  });
});

/** A safetensors file of BF16 or F16 tensors, encoded by hand (tinygpt's writer stores F32 only). */
function halfFile(tensors: ReadonlyArray<readonly [string, { shape: readonly number[]; bits: Uint16Array }]>, dtype: 'BF16' | 'F16'): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const [n, t] of tensors) {
    header[n] = { dtype, shape: t.shape, data_offsets: [at, at + 2 * t.bits.length] };
    at += 2 * t.bits.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const [, t] of tensors) {
    out.set(new Uint8Array(t.bits.buffer, t.bits.byteOffset, t.bits.byteLength), p);
    p += t.bits.byteLength;
  }
  return out;
}

/** Truncates float32 to bfloat16 bits (the top 16 bits; any rounding rule works for this test). */
const toBf16 = (x: Float32Array) => new Uint16Array(Uint32Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length), (u) => u >>> 16));
/** float32 with the low 16 bits cleared: the values those bfloat16 bits stand for. */
const bf16Values = (x: Float32Array) => new Float32Array(Uint32Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length), (u) => u & 0xffff0000).buffer);

describe('sharded and 16-bit Hugging Face checkpoints', () => {
  const ref = reference('gemma3-tiny');

  it('loads a BF16 copy split over two shards by model.safetensors.index.json like the F32 file of the same values', async () => {
    const src = parseSafetensors(readFileSync(join(fixture('gemma3-tiny'), 'model.safetensors'))).tensors;
    const names = [...src.keys()];
    const shards = [names.slice(0, 20), names.slice(20)];
    const sharded = join(scratch, 'gemma-bf16-sharded');
    const f32 = join(scratch, 'gemma-bf16-as-f32');
    for (const d of [sharded, f32]) cpSync(join(fixture('gemma3-tiny'), 'config.json'), join(d, 'config.json'));
    const weightMap: Record<string, string> = {};
    shards.forEach((list, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      list.forEach((n) => (weightMap[n] = file));
      writeFileSync(join(sharded, file), halfFile(list.map((n) => [n, { shape: src.get(n)!.shape, bits: toBf16(src.get(n)!.data as Float32Array) }] as const), 'BF16'));
    });
    writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    writeFileSync(join(f32, 'model.safetensors'), serializeSafetensors(new Map(names.map((n) => [n, { shape: src.get(n)!.shape, data: bf16Values(src.get(n)!.data as Float32Array) }]))));
    const a = await GPT.fromPretrained(sharded);
    const b = await GPT.fromPretrained(f32);
    const la = await logProbs(a, ref.input_ids);
    expect(maxAbsDiff(la, await logProbs(b, ref.input_ids))).toBe(0);
    // Truncating to bfloat16 (8 significant bits) moves these log-probs, but not by much.
    const shift = maxAbsDiff(la, ref.log_probs);
    expect(shift).toBeGreaterThan(1e-4);
    expect(shift).toBeLessThan(2e-2);
    a.dispose();
    b.dispose();
    // A shard that does not hold what the index says is named.
    writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...weightMap, [names[0]]: 'model-00002-of-00002.safetensors' } }));
    await expect(GPT.fromPretrained(sharded)).rejects.toThrow(/model-0000[12]-of-00002\.safetensors disagrees with model\.safetensors\.index\.json: .*model\.embed_tokens\.weight/);
  });

  it('loads F16 weights (IEEE half) and a multimodal gemma3 folder (text_config, language_model names, vision tensors skipped)', async () => {
    const src = parseSafetensors(readFileSync(join(fixture('llama-tiny'), 'model.safetensors'))).tensors;
    const dir = join(scratch, 'llama-f16');
    cpSync(join(fixture('llama-tiny'), 'config.json'), join(dir, 'config.json'));
    // Values k/1024 for integer |k| < 2048 are exact in F16: bits by hand for a few, scaled copies for the rest.
    const toHalf = (x: number) => {
      const k = Math.round(x * 1024);
      if (k === 0) return 0;
      const s = k < 0 ? 0x8000 : 0;
      const a = Math.abs(k);
      const e = Math.floor(Math.log2(a)); // a = 2^e · (1 + m/2^e), value a · 2^-10
      return s | ((e - 10 + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
    };
    const rounded = new Map([...src].map(([n, t]) => [n, Float32Array.from(t.data, (v) => Math.round(v * 1024) / 1024)]));
    writeFileSync(join(dir, 'model.safetensors'), halfFile([...rounded].map(([n, v]) => [n, { shape: src.get(n)!.shape, bits: Uint16Array.from(v, toHalf) }] as const), 'F16'));
    const exact = join(scratch, 'llama-f16-as-f32');
    cpSync(join(fixture('llama-tiny'), 'config.json'), join(exact, 'config.json'));
    writeFileSync(join(exact, 'model.safetensors'), serializeSafetensors(new Map([...rounded].map(([n, v]) => [n, { shape: src.get(n)!.shape, data: v }]))));
    const ids = reference('llama-tiny').input_ids;
    const a = await GPT.fromPretrained(dir);
    const b = await GPT.fromPretrained(exact);
    expect(maxAbsDiff(await logProbs(a, ids), await logProbs(b, ids))).toBe(0);
    a.dispose();
    b.dispose();

    const mm = join(scratch, 'gemma3-multimodal');
    mkdirSync(mm);
    const text = JSON.parse(readFileSync(join(fixture('gemma3-tiny'), 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(mm, 'config.json'), JSON.stringify({ model_type: 'gemma3', architectures: ['Gemma3ForConditionalGeneration'], text_config: text, vision_config: { hidden_size: 8 } }));
    const g = parseSafetensors(readFileSync(join(fixture('gemma3-tiny'), 'model.safetensors'))).tensors;
    const renamed = new Map([...g].map(([n, t]) => [n.replace(/^model\./, 'model.language_model.'), { shape: t.shape, data: t.data }]));
    renamed.set('model.vision_tower.patch_embedding.weight', { shape: [2, 2], data: new Float32Array(4) });
    writeFileSync(join(mm, 'model.safetensors'), serializeSafetensors(renamed));
    const m = await GPT.fromPretrained(mm);
    expect(maxAbsDiff(await logProbs(m, ref.input_ids), ref.log_probs)).toBeLessThanOrEqual(1e-4);
    m.dispose();
  });
});
