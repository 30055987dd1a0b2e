/**
 * Gemma 3 1B at its real size with random weights (issue 14 item 7): writes a gemma3-1b-shaped BF16
 * Hugging Face folder (seeded, ~2 GB, streamed to a temp folder, never the repo) and a GGUF of the
 * same values for llama.cpp, loads the folder with GPT.fromPretrained (seconds, peak RSS), then
 * decodes greedily beside llama.cpp (node-llama-cpp 3.21.1, CPU, F32 KV cache, same threads) and
 * prints both tok/s and whether the greedy tokens match.
 *
 *   npx tsx bench/gemma1b-load.ts [--layers 26] [--tokens 32] [--prompt 8] [--threads 1]
 *       [--context 1024] [--gguf-type f32|bf16] [--load dot|tensors] [--backend cpu|wasm] [--dir DIR] [--keep] [--seed 1]
 *
 * --layers N writes only the first N layers (a quick check; 26 is the real model). --context sets
 * max_position_embeddings (which sizes RoPE tables and the KV cache, not any weight; the real model
 * says 32768). --load dot (the default) reads the folder with loadDecoder: the weights go from the
 * files into the DotEngine's own wasm memory, bfloat16 kept (2 GB), and decode on its SIMD kernels.
 * --load tensors is GPT.fromPretrained (4 GB of fp32 tensors, on --backend cpu since wasm's 32-bit
 * heap cannot hold them) and the Decoder's JS engine. Run it on a quiet machine for timings;
 * llama.cpp mmaps the GGUF (4 GB in F32).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { setBackend } from '../src/backend.js';
import { Decoder } from '../src/decode/decoder.js';
import { GPT } from '../src/model/gpt.js';
import { loadDecoder } from '../src/pretrained/hostModel.js';
import { createRng } from '../src/util/rng.js';
import { writeGguf } from './reference/ggufWriter.js';
import { encodeChunks, ggufMetadata, ggufTensors, hfTensors, tensorValues, type HfTextConfig } from './reference/hfRandom.js';
import { openLlamaCpp } from './reference/llamaCpp.js';
import { writeSafetensorsStream } from './reference/safetensorsStream.js';

const { values } = parseArgs({
  options: {
    layers: { type: 'string' },
    tokens: { type: 'string' },
    prompt: { type: 'string' },
    threads: { type: 'string' },
    context: { type: 'string' },
    'gguf-type': { type: 'string' },
    backend: { type: 'string' },
    load: { type: 'string' },
    dir: { type: 'string' },
    keep: { type: 'boolean' },
    seed: { type: 'string' },
  },
});
const layers = Number(values.layers ?? 26);
const steps = Number(values.tokens ?? 32);
const promptLen = Number(values.prompt ?? 8);
const threads = Number(values.threads ?? 1);
const context = Number(values.context ?? 1024);
const ggufType = (values['gguf-type'] ?? 'f32').toUpperCase() === 'BF16' ? 'BF16' : 'F32';
const seed = Number(values.seed ?? 1);
const loadMode = values.load ?? 'dot';
if (loadMode !== 'dot' && loadMode !== 'tensors') throw new Error(`--load must be dot or tensors, got ${loadMode}`);

// google/gemma-3-1b-pt's config.json, with num_hidden_layers and max_position_embeddings as asked.
const CONFIG: HfTextConfig = {
  architectures: ['Gemma3ForCausalLM'],
  model_type: 'gemma3_text',
  vocab_size: 262_144,
  hidden_size: 1152,
  intermediate_size: 6912,
  num_hidden_layers: layers,
  num_attention_heads: 4,
  num_key_value_heads: 1,
  head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh',
  max_position_embeddings: context,
  rms_norm_eps: 1e-6,
  rope_theta: 1_000_000,
  rope_local_base_freq: 10_000,
  rope_scaling: null,
  sliding_window: 512,
  sliding_window_pattern: 6,
  query_pre_attn_scalar: 256,
  attn_logit_softcapping: null,
  final_logit_softcapping: null,
  attention_bias: false,
  tie_word_embeddings: true,
  bos_token_id: 2,
  eos_token_id: 1,
  pad_token_id: 0,
  torch_dtype: 'bfloat16',
};
// Trained-model-like scales: unit-ish activations, a post-FFN gain near 1.
const STD = { embed: 0.03, linear: 0.05, norm: 0.05 };

const rssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);
const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);

const root = values.dir ?? mkdtempSync(path.join(tmpdir(), 'tinygpt-gemma1b-'));
const hfDir = path.join(root, 'hf');
mkdirSync(hfDir, { recursive: true });
const gguf = path.join(root, `gemma1b-${ggufType.toLowerCase()}.gguf`);
try {
  const specs = hfTensors(CONFIG, STD);
  let t0 = performance.now();
  writeFileSync(path.join(hfDir, 'config.json'), JSON.stringify(CONFIG, null, 2) + '\n');
  await writeSafetensorsStream(
    path.join(hfDir, 'model.safetensors'),
    specs.map((s) => ({
      name: s.name,
      shape: s.shape,
      dtype: 'BF16',
      chunks: () => encodeChunks(tensorValues(s, seed, 'BF16', true), 'BF16'),
    })),
  );
  const hfBytes = statSync(path.join(hfDir, 'model.safetensors')).size;
  console.log(`wrote ${hfDir} (${(hfBytes / 2 ** 30).toFixed(2)} GiB BF16, ${layers} layers) in ${secs(t0)} s`);
  t0 = performance.now();
  await writeGguf(gguf, ggufMetadata(CONFIG, 'gemma3-1b-random'), ggufTensors(CONFIG, specs, seed, 'BF16', ggufType));
  console.log(
    `wrote ${gguf} (${(statSync(gguf).size / 2 ** 30).toFixed(2)} GiB ${ggufType}) in ${secs(t0)} s; peak RSS so far ${rssMiB()} MiB`,
  );

  const rng = createRng(`${seed}:prompt`);
  const prompt = Array.from({ length: promptLen }, () => 3 + rng.nextInt(256)); // byte tokens
  const argmax = (x: Float32Array) => x.reduce((best, v, i) => (v > x[best] ? i : best), 0);
  let decoder: Decoder;
  let loadSecs: string;
  let dispose = () => {};
  if (loadMode === 'dot') {
    // Inference-only: weights from the files straight into the DotEngine's memory, bfloat16 kept.
    t0 = performance.now();
    decoder = await loadDecoder(hfDir);
    loadSecs = secs(t0);
    console.log(`tinygpt: loadDecoder ${loadSecs} s (DotEngine, bfloat16 weights); peak RSS ${rssMiB()} MiB`);
  } else {
    const backend = await setBackend((values.backend ?? 'cpu') as 'cpu' | 'wasm');
    t0 = performance.now();
    const model = await GPT.fromPretrained(hfDir);
    loadSecs = secs(t0);
    console.log(
      `tinygpt (${backend}): GPT.fromPretrained ${loadSecs} s, ${model.numParams().toLocaleString('en-US')} parameters, peak RSS ${rssMiB()} MiB`,
    );
    t0 = performance.now();
    decoder = new Decoder(model);
    console.log(`tinygpt Decoder built in ${secs(t0)} s; peak RSS ${rssMiB()} MiB`);
    dispose = () => model.dispose();
  }

  let next = argmax(decoder.feed(prompt));
  const ours = [next];
  t0 = performance.now();
  for (let i = 1; i < steps; i++) ours.push((next = argmax(decoder.feed([next]))));
  const oursRate = (steps - 1) / ((performance.now() - t0) / 1000);
  decoder.dispose();
  dispose();
  const tinyRss = rssMiB();

  t0 = performance.now();
  const cpp = await openLlamaCpp(gguf, threads, context);
  console.log(`llama.cpp: model loaded in ${secs(t0)} s`);
  const theirs = await cpp.greedy(prompt, steps);
  await cpp.dispose();

  const same = theirs.tokens.findIndex((t, i) => t !== ours[i]);
  console.log(
    JSON.stringify({
      layers,
      threads,
      tokens: steps,
      load: loadMode,
      load_seconds: Number(loadSecs),
      tinygpt_peak_rss_mib: tinyRss,
      peak_rss_mib: rssMiB(),
      tinygpt_tok_per_s: Number(oursRate.toFixed(2)),
      llamacpp_tok_per_s: Number(theirs.tokPerSec.toFixed(2)),
      llamacpp_weights: ggufType,
      greedy_match: same === -1,
      first_mismatch: same === -1 ? null : same,
      tinygpt_tokens: ours,
      llamacpp_tokens: theirs.tokens,
    }),
  );
} finally {
  if (!values.keep) rmSync(root, { recursive: true, force: true });
  else console.log(`kept ${root}`);
}
