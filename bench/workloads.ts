/**
 * The two training workloads of issue 16, shared by bench/train-speed.ts and bench/scaling.ts:
 * nanoGPT's Shakespeare-char CPU recipe and a wider, longer one. Both use a 65-token vocabulary,
 * dropout 0, clip 1 and a constant learning rate 1e-3, so a step's time is all there is to compare.
 */
import { GPT } from '../src/model/gpt.js';
import type { TrainOptions } from '../src/train/options.js';

/** Vocabulary size of both workloads (Shakespeare-char's). */
export const VOCAB = 65;

/** Model shape, tokens per row and rows per step of each workload. */
export const SHAPES = {
  recipe: { nLayer: 4, nHead: 4, nEmbd: 128, block: 64, batch: 12 },
  wide: { nLayer: 6, nHead: 6, nEmbd: 384, block: 256, batch: 8 },
} as const;
export type ShapeName = keyof typeof SHAPES;

/** A new GPT of the workload's shape (GPT-2 layout with biases, dropout 0, seed 1337). */
export function workloadModel(name: ShapeName): GPT {
  const { nLayer, nHead, nEmbd, block } = SHAPES[name];
  return new GPT({ vocabSize: VOCAB, blockSize: block, nLayer, nHead, nEmbd, dropout: 0, bias: true, seed: 1337 });
}

/**
 * Trainer options for `total` steps of `micro` micro-batches of `batchSize` rows on `workers`:
 * no warm-up or decay of the rate, a log record every step, one evaluation at the end.
 */
export function benchTrainOptions(batchSize: number, blockSize: number, micro: number, workers: number | 'auto', total: number): TrainOptions {
  return {
    batchSize,
    blockSize,
    gradAccumSteps: micro,
    workers,
    maxIters: total,
    warmupIters: 0,
    lr: 1e-3,
    minLr: 1e-3,
    gradClip: 1,
    logInterval: 1,
    evalInterval: total,
    evalIters: 1,
  };
}
