/**
 * Random Llama- and Gemma-3-shaped models as Hugging Face would store them (tensor names, (out, in)
 * linear weights, Gemma norms as w with γ = 1 + w), and the same weights as llama.cpp's GGUF
 * tensors. Every tensor is drawn from its own seeded stream (seed + name), in row-major chunks,
 * so the Hugging Face file and the GGUF file get identical values without holding a model in memory.
 */
import { createRng } from '../../src/util/rng.js';
import type { GgmlTypeName, GgufTensor, GgufValue } from './ggufWriter.js';

/** The config.json keys these models use (HF's names and meanings). */
export interface HfTextConfig {
  readonly model_type: 'llama' | 'gemma3_text';
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly intermediate_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly num_key_value_heads: number;
  readonly head_dim: number;
  readonly rms_norm_eps: number;
  readonly rope_theta: number;
  readonly max_position_embeddings: number;
  readonly tie_word_embeddings: boolean;
  readonly [key: string]: unknown;
}

/** One weight of the HF checkpoint: its name, row-major shape and the std of its random values. */
export interface HfTensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** 'norm' values are w (Gemma, γ = 1 + w) or γ − 1 (Llama): drawn around 0 either way. */
  readonly kind: 'embed' | 'linear' | 'norm';
  readonly std: number;
  /** Mean of the values (default 0; Llama norms 1 + this, since Llama stores γ). */
  readonly mean?: number;
}

/** Storage dtypes of the HF file. */
export type HfDtype = 'F32' | 'BF16';

const isGemma = (c: HfTextConfig) => c.model_type === 'gemma3_text';

/** Every tensor of the checkpoint, in HF's order, with the std each is drawn with. */
export function hfTensors(c: HfTextConfig, std: { embed: number; linear: number; norm: number; ffnOutGain?: number }): HfTensorSpec[] {
  const d = c.hidden_size;
  const hd = c.head_dim;
  const out: HfTensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocab_size, d], kind: 'embed', std: std.embed }];
  const lin = (name: string, o: number, i: number) => out.push({ name, shape: [o, i], kind: 'linear', std: std.linear });
  const norm = (name: string, n: number) => out.push({ name, shape: [n], kind: 'norm', std: std.norm });
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    norm(`${p}input_layernorm.weight`, d);
    lin(`${p}self_attn.q_proj.weight`, c.num_attention_heads * hd, d);
    lin(`${p}self_attn.k_proj.weight`, c.num_key_value_heads * hd, d);
    lin(`${p}self_attn.v_proj.weight`, c.num_key_value_heads * hd, d);
    lin(`${p}self_attn.o_proj.weight`, d, c.num_attention_heads * hd);
    if (isGemma(c)) {
      norm(`${p}self_attn.q_norm.weight`, hd);
      norm(`${p}self_attn.k_norm.weight`, hd);
      norm(`${p}pre_feedforward_layernorm.weight`, d);
      // Optionally a small post-FFN gain γ (w = γ − 1), which scales the FFN's share of the residual stream.
      out.push({ name: `${p}post_feedforward_layernorm.weight`, shape: [d], kind: 'norm', std: std.norm / 5, mean: (std.ffnOutGain ?? 1) - 1 });
    }
    norm(`${p}post_attention_layernorm.weight`, d);
    lin(`${p}mlp.gate_proj.weight`, c.intermediate_size, d);
    lin(`${p}mlp.up_proj.weight`, c.intermediate_size, d);
    lin(`${p}mlp.down_proj.weight`, d, c.intermediate_size);
  }
  norm('model.norm.weight', d);
  if (!c.tie_word_embeddings) out.push({ name: 'lm_head.weight', shape: [c.vocab_size, d], kind: 'embed', std: std.embed });
  return out;
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** float32 → bfloat16 bits, round to nearest even (what torch's .to(bfloat16) does). */
export function toBf16Bits(x: number, scratch: { f: Float32Array; u: Uint32Array }): number {
  scratch.f[0] = x;
  const u = scratch.u[0];
  return ((u + 0x7fff + ((u >> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * The values of one tensor as float32 chunks of at most `chunk` elements, row-major, already
 * rounded to `dtype` (so a BF16 file and an F32 copy hold the same numbers). Uniform with the
 * given std; Llama norms are 1 + noise (γ itself), Gemma norms noise (w, γ = 1 + w).
 */
export function* tensorValues(
  spec: HfTensorSpec,
  seed: number,
  dtype: HfDtype,
  gemma: boolean,
  chunk = 1 << 20,
): Generator<Float32Array> {
  const rng = createRng(`${seed}:${spec.name}`);
  const a = Math.sqrt(3) * spec.std; // uniform on [−a, a] has std a/√3
  const offset = (spec.mean ?? 0) + (spec.kind === 'norm' && !gemma ? 1 : 0);
  const scratch = { f: new Float32Array(1), u: new Uint32Array(1) };
  scratch.u = new Uint32Array(scratch.f.buffer);
  let left = numel(spec.shape);
  while (left > 0) {
    const n = Math.min(chunk, left);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = offset + (2 * rng.next() - 1) * a;
    if (dtype === 'BF16') {
      for (let i = 0; i < n; i++) {
        scratch.u[0] = toBf16Bits(v[i], scratch) << 16;
        v[i] = scratch.f[0];
      }
    }
    left -= n;
    yield v;
  }
}

/** The whole tensor in one array (small models only). */
export function tensorArray(spec: HfTensorSpec, seed: number, dtype: HfDtype, gemma: boolean): Float32Array {
  const out = new Float32Array(numel(spec.shape));
  let at = 0;
  for (const c of tensorValues(spec, seed, dtype, gemma)) (out.set(c, at), (at += c.length));
  return out;
}

/** float32 chunks → little-endian bytes of `type` (values already representable exactly). */
export function* encodeChunks(values: Iterable<Float32Array>, type: 'F32' | 'BF16'): Generator<Uint8Array> {
  const scratch = { f: new Float32Array(1), u: new Uint32Array(1) };
  scratch.u = new Uint32Array(scratch.f.buffer);
  for (const v of values) {
    if (type === 'F32') {
      yield new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    } else {
      const out = new Uint16Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = toBf16Bits(v[i], scratch);
      yield new Uint8Array(out.buffer);
    }
  }
}

/**
 * llama.cpp's name for an HF tensor (gguf-py's tensor map for the llama and gemma3 architectures).
 * Llama's post_attention_layernorm is the norm before the MLP (ffn_norm); Gemma 3's is the sandwich
 * norm after attention (post_attention_norm), and its pre_feedforward_layernorm is ffn_norm.
 */
export function ggufName(hf: string, gemma: boolean): string {
  const top: Record<string, string> = { 'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight' };
  if (top[hf]) return top[hf];
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(hf);
  if (!m) throw new Error(`ggufName: unexpected tensor ${hf}`);
  const layer: Record<string, string> = {
    input_layernorm: 'attn_norm',
    'self_attn.q_proj': 'attn_q',
    'self_attn.k_proj': 'attn_k',
    'self_attn.v_proj': 'attn_v',
    'self_attn.o_proj': 'attn_output',
    'self_attn.q_norm': 'attn_q_norm',
    'self_attn.k_norm': 'attn_k_norm',
    post_attention_layernorm: gemma ? 'post_attention_norm' : 'ffn_norm',
    pre_feedforward_layernorm: 'ffn_norm',
    post_feedforward_layernorm: 'post_ffw_norm',
    'mlp.gate_proj': 'ffn_gate',
    'mlp.up_proj': 'ffn_up',
    'mlp.down_proj': 'ffn_down',
  };
  const g = layer[m[2]];
  if (!g) throw new Error(`ggufName: unexpected tensor ${hf}`);
  return `blk.${m[1]}.${g}.weight`;
}

/**
 * HF stores Llama's q/k rows in rotate-half order (feature i pairs with i + hd/2 in each head);
 * llama.cpp's llama architecture rotates adjacent pairs (2i, 2i+1), so its converter reorders
 * the rows of each head: GGUF row 2i + j takes HF row j·hd/2 + i (j = 0, 1). Gemma 3 uses
 * llama.cpp's NeoX (rotate-half) mode and needs no reordering.
 */
export function interleaveRows(w: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const hd = rows / heads;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < hd / 2; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * hd + j * (hd / 2) + i) * cols;
        out.set(w.subarray(src, src + cols), (h * hd + 2 * i + j) * cols);
      }
    }
  }
  return out;
}

/** The GGUF tensors of a model: same values as the HF file, with llama.cpp's names and conventions. */
export function ggufTensors(c: HfTextConfig, specs: readonly HfTensorSpec[], seed: number, hfDtype: HfDtype, type: GgmlTypeName): GgufTensor[] {
  const gemma = isGemma(c);
  return specs.map((s) => {
    const name = ggufName(s.name, gemma);
    // llama.cpp computes norms in f32 and its Gemma converter stores γ = 1 + w.
    const tType: 'F32' | 'BF16' = s.kind === 'norm' ? 'F32' : type === 'BF16' ? 'BF16' : 'F32';
    const permuteHeads = !gemma && /self_attn\.q_proj/.test(s.name) ? c.num_attention_heads : !gemma && /self_attn\.k_proj/.test(s.name) ? c.num_key_value_heads : 0;
    const chunks = (): Iterable<Uint8Array> => {
      if (s.kind === 'norm' && gemma) {
        const w = tensorArray(s, seed, hfDtype, gemma);
        const g = w.map((x) => Math.fround(1 + x));
        return encodeChunks([g], 'F32');
      }
      if (permuteHeads > 0) {
        return encodeChunks([interleaveRows(tensorArray(s, seed, hfDtype, gemma), s.shape[0], s.shape[1], permuteHeads)], tType);
      }
      return encodeChunks(tensorValues(s, seed, hfDtype, gemma), tType);
    };
    return { name, shape: s.shape, type: tType, chunks };
  });
}

/**
 * A byte-level SentencePiece-style vocabulary for llama.cpp: <unk>, <s>, </s>, the 256 byte
 * tokens <0x00>..<0xFF>, then filler tokens up to vocab_size, so every id is a valid token.
 */
export function byteVocab(vocabSize: number): ReadonlyArray<readonly [string, GgufValue]> {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [2, 3, 3]; // UNKNOWN, CONTROL, CONTROL
  for (let b = 0; b < 256; b++) (tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`), types.push(6)); // BYTE
  for (let i = tokens.length; i < vocabSize; i++) (tokens.push(`<filler_${i}>`), types.push(1)); // NORMAL
  if (tokens.length !== vocabSize) throw new Error(`byteVocab: vocab_size ${vocabSize} is below the 259 byte-level tokens.`);
  return [
    ['tokenizer.ggml.model', { string: 'llama' }],
    ['tokenizer.ggml.tokens', { strings: tokens }],
    ['tokenizer.ggml.scores', { f32s: tokens.map(() => 0) }],
    ['tokenizer.ggml.token_type', { i32s: types }],
    ['tokenizer.ggml.unknown_token_id', { u32: 0 }],
    ['tokenizer.ggml.bos_token_id', { u32: 1 }],
    ['tokenizer.ggml.eos_token_id', { u32: 2 }],
    ['tokenizer.ggml.add_bos_token', { bool: false }],
    ['tokenizer.ggml.add_eos_token', { bool: false }],
  ];
}

/** Which layers of a Gemma 3 config use the sliding window (HF's layer_types, else the pattern). */
export function slidingLayers(c: HfTextConfig): boolean[] {
  if (Array.isArray(c.layer_types)) return (c.layer_types as string[]).map((t) => t === 'sliding_attention');
  const p = typeof c.sliding_window_pattern === 'number' ? c.sliding_window_pattern : 6;
  return Array.from({ length: c.num_hidden_layers }, (_, i) => (i + 1) % p !== 0);
}

/** The period p of a Gemma 3 layer pattern (layers p−1, 2p−1, ... global; n + 1 when all n are local); throws if it has none. */
export function slidingPeriod(c: HfTextConfig): number {
  const local = slidingLayers(c);
  if (local.every((l) => l)) return local.length + 1; // no global layer within the stack
  const p = local.indexOf(false) + 1;
  const ok = p > 0 && local.every((l, i) => l === ((i + 1) % p !== 0));
  if (!ok) throw new Error(`slidingPeriod: layer pattern ${local.map((l) => (l ? 'S' : 'F')).join('')} is not periodic with a global layer last in each period.`);
  return p;
}

/** llama.cpp metadata (gguf-py's key names) for the llama or gemma3 architecture of config c. */
export function ggufMetadata(c: HfTextConfig, name: string): Array<readonly [string, GgufValue]> {
  const arch = isGemma(c) ? 'gemma3' : 'llama';
  const kv: Array<readonly [string, GgufValue]> = [
    ['general.architecture', { string: arch }],
    ['general.name', { string: name }],
    [`${arch}.context_length`, { u32: c.max_position_embeddings }],
    [`${arch}.embedding_length`, { u32: c.hidden_size }],
    [`${arch}.block_count`, { u32: c.num_hidden_layers }],
    [`${arch}.feed_forward_length`, { u32: c.intermediate_size }],
    [`${arch}.attention.head_count`, { u32: c.num_attention_heads }],
    [`${arch}.attention.head_count_kv`, { u32: c.num_key_value_heads }],
    [`${arch}.attention.key_length`, { u32: c.head_dim }],
    [`${arch}.attention.value_length`, { u32: c.head_dim }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { f32: c.rms_norm_eps }],
    [`${arch}.rope.freq_base`, { f32: c.rope_theta }],
    [`${arch}.rope.dimension_count`, { u32: c.head_dim }],
    [`${arch}.vocab_size`, { u32: c.vocab_size }],
  ];
  if (isGemma(c)) {
    kv.push(
      [`${arch}.attention.sliding_window`, { u32: Number(c.sliding_window) }],
      // llama.cpp's gemma3 reads a period p here (every p-th layer global), not a per-layer list.
      [`${arch}.attention.sliding_window_pattern`, { u32: slidingPeriod(c) }],
      [`${arch}.rope.freq_base_swa`, { f32: Number(c.rope_local_base_freq) }],
    );
  }
  return [...kv, ...byteVocab(c.vocab_size)];
}
