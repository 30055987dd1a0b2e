import { isGpt2Architecture } from '../config/plan.js';
import { isGated, resolveConfig, type Activation, type ResolvedGPTConfig } from '../config/config.js';

/** The keys of a Hugging Face GPT-2 config.json that tinygpt reads and writes. */
export interface HFGPT2Config {
  readonly model_type: 'gpt2';
  readonly architectures: readonly string[];
  readonly vocab_size: number;
  readonly n_positions: number;
  readonly n_ctx: number;
  readonly n_embd: number;
  readonly n_layer: number;
  readonly n_head: number;
  readonly n_inner: number | null;
  readonly layer_norm_epsilon: number;
  readonly activation_function: string;
  readonly tie_word_embeddings: boolean;
}

// GPT-2's "gelu_new" (and "gelu_pytorch_tanh") is the tanh approximation; HF's "gelu" is exact.
const HF_TO_ACTIVATION: Record<string, Activation> = {
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu: 'gelu',
  relu: 'relu',
};

/** True when a parsed config.json is in Hugging Face's GPT-2 format rather than tinygpt's. */
export function isHFGPT2Config(json: Record<string, unknown>): boolean {
  return json.model_type === 'gpt2' || (typeof json.n_embd === 'number' && typeof json.n_layer === 'number');
}

function num(json: Record<string, unknown>, key: string, file: string): number {
  const v = json[key];
  if (typeof v !== 'number') throw new Error(`${file}: "${key}" must be a number, got ${JSON.stringify(v)}.`);
  return v;
}

/** Maps a Hugging Face GPT-2 config.json to a tinygpt config. */
export function fromHFConfig(json: Record<string, unknown>, file = 'config.json'): ResolvedGPTConfig {
  const act = String(json.activation_function ?? 'gelu_new');
  const activation = HF_TO_ACTIVATION[act];
  if (!activation) {
    throw new Error(`${file}: activation_function "${act}" is not supported; use one of ${Object.keys(HF_TO_ACTIVATION).join(', ')}.`);
  }
  const nEmbd = num(json, 'n_embd', file);
  const inner = json.n_inner;
  return resolveConfig({
    vocabSize: num(json, 'vocab_size', file),
    blockSize: num(json, 'n_positions', file),
    nLayer: num(json, 'n_layer', file),
    nHead: num(json, 'n_head', file),
    nEmbd,
    activation,
    ffnHidden: typeof inner === 'number' ? inner : 4 * nEmbd,
    layerNormEps: typeof json.layer_norm_epsilon === 'number' ? json.layer_norm_epsilon : 1e-5,
    bias: true,
    tieEmbeddings: json.tie_word_embeddings !== false,
    dropout: 0,
  });
}

/** Maps a tinygpt config to Hugging Face's GPT-2 keys; throws for shapes GPT-2 cannot express. */
export function toHFConfig(c: ResolvedGPTConfig): HFGPT2Config {
  if (isGated(c.activation)) {
    throw new Error(`format "hf-gpt2" cannot hold a ${c.activation === 'swiglu' ? 'SwiGLU' : 'GeGLU'} model (GPT-2 has one FFN branch): save with format "tinygpt".`);
  }
  if (!isGpt2Architecture(c)) {
    throw new Error(
      'format "hf-gpt2" holds GPT-2\'s architecture only (LayerNorm, learned positions, one key/value head per query head of width nEmbd/nHead, ' +
        'no q/k or sandwich norms, embedding scaling or sliding window): save with format "tinygpt".',
    );
  }
  if (!c.bias) {
    throw new Error('format "hf-gpt2" needs bias: true (GPT-2 layers have biases): save with format "tinygpt".');
  }
  const activation = c.activation === 'gelu_tanh' ? 'gelu_new' : c.activation;
  return {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    vocab_size: c.vocabSize,
    n_positions: c.blockSize,
    n_ctx: c.blockSize,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: c.ffnHidden === 4 * c.nEmbd ? null : c.ffnHidden,
    layer_norm_epsilon: c.layerNormEps,
    activation_function: activation,
    tie_word_embeddings: c.tieEmbeddings,
  };
}
