/**
 * Writes test/fixtures/{llama-tiny,gemma3-tiny}: tiny random Llama- and Gemma-3-shaped models as
 * Hugging Face folders (config.json with HF's keys, model.safetensors with HF's names), plus
 * llamacpp.json with llama.cpp's next-token log-probabilities for fixed ids and its greedy tokens,
 * computed from a GGUF file of the same weights (written to a temp folder, not committed).
 *
 *   npx tsx bench/reference/make_llama_gemma_fixtures.ts [--seed 20250101] [--threads 1] [--out test/fixtures]
 *
 * The same seed gives the same bytes. Tests read the committed files and never need llama.cpp.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createRng } from '../../src/util/rng.js';
import { checkGguf } from './ggufCheck.js';
import { writeGguf } from './ggufWriter.js';
import { encodeChunks, ggufMetadata, ggufTensors, hfTensors, tensorValues, type HfTextConfig } from './hfRandom.js';
import { openLlamaCpp } from './llamaCpp.js';
import { writeSafetensorsStream } from './safetensorsStream.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const seed = Number(arg('seed', '20250101'));
const threads = Number(arg('threads', '1'));
const outRoot = arg('out', path.join(import.meta.dirname, '..', '..', 'test', 'fixtures'));

// 3 special tokens + 256 byte tokens: llama.cpp accepts every id of this vocabulary.
const VOCAB = 259;

const LLAMA: HfTextConfig = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: VOCAB,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  hidden_act: 'silu',
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  rope_scaling: null,
  attention_bias: false,
  attention_dropout: 0,
  mlp_bias: false,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
  torch_dtype: 'float32',
};

// Four layers, sliding-window layers 0, 1, 3 (window 4) and global layer 2; 4 query heads
// on 2 key/value heads of width 16 (≠ hidden/heads = 8), GeGLU, tied head.
const GEMMA: HfTextConfig = {
  architectures: ['Gemma3ForCausalLM'],
  model_type: 'gemma3_text',
  vocab_size: VOCAB,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  hidden_activation: 'gelu_pytorch_tanh',
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  rope_theta: 1_000_000,
  rope_local_base_freq: 10_000,
  rope_scaling: null,
  sliding_window: 4,
  sliding_window_pattern: 3,
  layer_types: ['sliding_attention', 'sliding_attention', 'full_attention', 'sliding_attention'],
  // llama.cpp's gemma3 scales queries by 1/√head_dim (1/√(d/heads) only for the 62-layer 27B), so
  // the fixture keeps query_pre_attn_scalar = head_dim, as Gemma 3 1B does (256 = 256).
  query_pre_attn_scalar: 16,
  attn_logit_softcapping: null,
  final_logit_softcapping: null,
  attention_bias: false,
  attention_dropout: 0,
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 0,
  torch_dtype: 'float32',
};

// llama.cpp's CPU GeLU (ggml's GGML_GELU_FP16) rounds its input and output to fp16, a relative
// error up to 2^-11 on every gate value, which reached 5e-4 on these logits at full FFN weight. The Gemma
// fixture gives the post-FFN norm a gain γ ≈ ffnOutGain, shrinking the FFN branch (and that error)
// below the 1e-4 tolerance while the FFN still moves the logits by far more (the test checks both).
// (With ggml's fp16 rounding emulated in tinygpt's GeLU, the full-weight model agreed to 7e-6.)
const STD = { embed: 0.05, linear: 0.15, norm: 0.1 };
const GEMMA_STD = { ...STD, embed: 0.03, ffnOutGain: 0.1 };

async function makeFixture(name: string, config: HfTextConfig, idsLen: number, promptLen: number, steps: number): Promise<void> {
  const dir = path.join(outRoot, name);
  mkdirSync(dir, { recursive: true });
  const gemma = config.model_type === 'gemma3_text';
  const specs = hfTensors(config, gemma ? GEMMA_STD : STD);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  await writeSafetensorsStream(
    path.join(dir, 'model.safetensors'),
    specs.map((s) => ({ name: s.name, shape: s.shape, dtype: 'F32', chunks: () => encodeChunks(tensorValues(s, seed, 'F32', gemma), 'F32') })),
  );
  const tmp = mkdtempSync(path.join(tmpdir(), 'tinygpt-gguf-'));
  try {
    const gguf = path.join(tmp, `${name}.gguf`);
    const meta = ggufMetadata(config, name);
    const tensors = ggufTensors(config, specs, seed, 'F32', 'F32');
    await writeGguf(gguf, meta, tensors);
    await checkGguf(gguf, meta, tensors);
    const rng = createRng(`${seed}:ids:${name}`);
    const ids = Array.from({ length: idsLen }, () => rng.nextInt(VOCAB));
    const cpp = await openLlamaCpp(gguf, threads, config.max_position_embeddings);
    const logProbs = await cpp.logProbs(ids);
    const prompt = ids.slice(0, promptLen);
    const { tokens } = await cpp.greedy(prompt, steps);
    await cpp.dispose();
    // The greedy choice is meaningful only if the top two log-probabilities are well apart.
    const margins = logProbs.map((row) => {
      const s = [...row].sort((a, b) => b - a);
      return s[0] - s[1];
    });
    writeFileSync(
      path.join(dir, 'llamacpp.json'),
      JSON.stringify({
        source: 'llama.cpp via node-llama-cpp 3.21.1 (CPU, F32 weights, F32 KV cache, no flash attention), bench/reference/make_llama_gemma_fixtures.ts',
        seed,
        threads,
        input_ids: ids,
        // ln softmax(logits) per position: llama.cpp exposes the distribution, so logits are compared up to their per-row constant.
        log_probs: logProbs.map((r) => r.map((v) => Number(v.toPrecision(8)))),
        prompt,
        greedy: tokens,
      }) + '\n',
    );
    console.log(`${name}: ${specs.length} tensors, ids ${ids.length}, greedy ${tokens.join(' ')}, min top-2 margin ${Math.min(...margins).toExponential(2)}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await makeFixture('llama-tiny', LLAMA, 16, 6, 10);
await makeFixture('gemma3-tiny', GEMMA, 16, 6, 10);
