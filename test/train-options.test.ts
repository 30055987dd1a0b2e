import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_OPTIONS, resolveTrainOptions } from '../src/train/options.js';

describe('resolveTrainOptions', () => {
  it("defaults to nanoGPT's Shakespeare CPU recipe", () => {
    const o = resolveTrainOptions();
    expect(o).toMatchObject({
      batchSize: 12,
      blockSize: 64,
      maxIters: 2000,
      lr: 1e-3,
      minLr: 1e-4,
      warmupIters: 100,
      lrDecayIters: 2000, // follows maxIters
      beta1: 0.9,
      beta2: 0.99,
      weightDecay: 0.1,
      gradClip: 1,
      gradAccumSteps: 1,
      evalInterval: 250,
      evalIters: 20,
      seed: 1337,
    });
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(DEFAULT_TRAIN_OPTIONS)).toBe(true);
  });

  it('takes the seed from the model, lets lrDecayIters follow maxIters, and ignores undefined fields', () => {
    const o = resolveTrainOptions({ maxIters: 500, lr: undefined }, { blockSize: 128, seed: 42 });
    expect(o.seed).toBe(42);
    expect(o.lrDecayIters).toBe(500);
    expect(o.lr).toBe(1e-3);
    // a run shorter than its warmup: the decay point moves to the warmup's end instead of failing
    expect(resolveTrainOptions({ maxIters: 30 }).lrDecayIters).toBe(100);
    expect(resolveTrainOptions({ seed: 5 }, { blockSize: 64, seed: 42 }).seed).toBe(5);
  });

  it('names the field and the fix for bad values', () => {
    expect(() => resolveTrainOptions({ learningRate: 1 } as never)).toThrow(
      /TrainOptions has no field "learningRate"; the fields are: batchSize, .*lr, /,
    );
    expect(() => resolveTrainOptions({ batchSize: 0 })).toThrow('TrainOptions.batchSize must be an integer >= 1, got 0.');
    expect(() => resolveTrainOptions({ maxIters: 2.5 })).toThrow(/maxIters must be an integer >= 0, got 2.5/);
    expect(() => resolveTrainOptions({ lr: 0 })).toThrow(/lr must be a finite number > 0/);
    expect(() => resolveTrainOptions({ minLr: 0.01 })).toThrow(/minLr must be in \[0, lr = 0.001\], got 0.01/);
    expect(() => resolveTrainOptions({ beta2: 1 })).toThrow(/beta2 must be in \[0, 1\), got 1/);
    expect(() => resolveTrainOptions({ gradClip: -1 })).toThrow(/gradClip must be a finite number >= 0 \(0 turns clipping off\)/);
    expect(() => resolveTrainOptions({ warmupIters: 50, lrDecayIters: 10 })).toThrow(
      /lrDecayIters \(10\) must be >= warmupIters \(50\)/,
    );
    expect(() => resolveTrainOptions({ blockSize: 256 }, { blockSize: 128, seed: 1 })).toThrow(
      /blockSize \(256\) exceeds the model's blockSize \(128\): train on blockSize <= 128/,
    );
    expect(() => resolveTrainOptions(null as never)).toThrow(/TrainOptions must be an object/);
  });
});
