import type { GPTConfig } from '../src/config/config.js';
import type { GPT } from '../src/model/gpt.js';
import { createRng } from '../src/util/rng.js';
import { normals, setVar } from './helpers.js';

/** Gemma 3's layout in miniature: layers 0, 1 local (window 3, base 10), layer 2 global (base 100). */
export const GEMMA_TINY: GPTConfig = {
  vocabSize: 11, blockSize: 8, nLayer: 3, nHead: 4, nKvHead: 2, headDim: 6, nEmbd: 8, ffnHidden: 12,
  activation: 'geglu', norm: 'rmsnorm', position: 'rope', ropeTheta: 100, ropeLocalTheta: 10,
  slidingWindow: 3, localGlobalPattern: 2, qkNorm: true, sandwichNorm: true, scaleEmbeddings: true,
  bias: false, tieEmbeddings: true, layerNormEps: 1e-6, seed: 5,
};

/** Llama's layout in miniature, with biases and LayerNorm to cover those branches: MQA, RoPE, SwiGLU, untied. */
export const LLAMA_TINY: GPTConfig = {
  vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 4, nKvHead: 1, nEmbd: 8, ffnHidden: 12,
  activation: 'swiglu', norm: 'layernorm', position: 'rope', bias: true, tieEmbeddings: false, seed: 6,
};

/** Norm gains 1 + N(0, std²), every other weight N(0, std²), so no test runs at the trivial init. */
export function randomizeModern(model: GPT, seed: number, std: number): void {
  const rng = createRng(seed);
  for (const [name, v] of model.namedWeights()) {
    const gain = /(norm|ln_[12f])\.weight$/.test(name);
    setVar(v, normals(rng, v.size, std, gain ? 1 : 0));
  }
}
