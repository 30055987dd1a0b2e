/**
 * llama.cpp (through node-llama-cpp 3.21.1) as the independent reference: CPU only, a fixed
 * thread count, F32 KV cache, no flash attention. It reads the GGUF written by ggufWriter.ts.
 */
import { getLlama, LlamaLogLevel, type LlamaContext, type LlamaModel, type Token } from 'node-llama-cpp';

/** A loaded GGUF model with one context; dispose() frees both. */
export interface LlamaCppRun {
  /** ln p(next token | ids[0..t]) for every token of the vocabulary, one row per position t. */
  logProbs(ids: readonly number[]): Promise<number[][]>;
  /** Greedy continuation of `prompt` by `n` tokens, with the decode speed (tokens/s) of those n steps. */
  greedy(prompt: readonly number[], n: number): Promise<{ tokens: number[]; tokPerSec: number }>;
  dispose(): Promise<void>;
}

/** Opens `gguf` with llama.cpp on `threads` CPU threads and a context of `contextSize` tokens. */
export async function openLlamaCpp(gguf: string, threads: number, contextSize: number): Promise<LlamaCppRun> {
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, maxThreads: threads });
  const model: LlamaModel = await llama.loadModel({ modelPath: gguf, gpuLayers: 0 });
  const newContext = (): Promise<LlamaContext> =>
    model.createContext({
      contextSize,
      batchSize: contextSize,
      threads: { ideal: threads, min: threads },
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
    });
  return {
    async logProbs(ids) {
      const ctx = await newContext();
      try {
        const seq = ctx.getSequence();
        const out = await seq.controlledEvaluate(ids.map((id) => [id as Token, { generateNext: { probabilities: true } }]));
        return out.map((o, t) => {
          const probs = o?.next.probabilities;
          if (!probs) throw new Error(`llama.cpp returned no probabilities at position ${t}.`);
          const row = new Array<number>(probs.size);
          for (const [tok, p] of probs) row[tok] = Math.log(p);
          return row;
        });
      } finally {
        await ctx.dispose();
      }
    },
    async greedy(prompt, n) {
      const ctx = await newContext();
      try {
        const seq = ctx.getSequence();
        const tokens: number[] = [];
        const first = await seq.controlledEvaluate(prompt.map((id, i) => (i === prompt.length - 1 ? [id as Token, { generateNext: { token: true } }] : (id as Token))));
        let next = first[prompt.length - 1]?.next.token as number;
        tokens.push(next);
        const t0 = performance.now();
        for (let i = 1; i < n; i++) {
          const r = await seq.controlledEvaluate([[next as Token, { generateNext: { token: true } }]]);
          next = r[0]?.next.token as number;
          tokens.push(next);
        }
        const secs = (performance.now() - t0) / 1000;
        return { tokens, tokPerSec: (n - 1) / secs };
      } finally {
        await ctx.dispose();
      }
    },
    async dispose() {
      await model.dispose();
      await llama.dispose();
    },
  };
}
