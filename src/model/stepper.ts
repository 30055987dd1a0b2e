import * as tf from '@tensorflow/tfjs-core';
import type { KVCache } from '../attention/kvCache.js';
import { Decoder, type DecoderSource } from '../decode/decoder.js';
import type { Stepper, StepperOptions } from './types.js';

/** What the tensor stepper needs of a model: the cached forward pass. */
export interface CachedForward {
  readonly config: { readonly vocabSize: number };
  createCache(): KVCache;
  forwardCached(ids: tf.Tensor2D, cache: KVCache): tf.Tensor3D;
}

/** The tensor path: model.forwardCached over a KVCache of tensors. */
class TensorStepper implements Stepper {
  private readonly cache: KVCache;

  constructor(private readonly model: CachedForward) {
    this.cache = model.createCache();
  }

  held(): number {
    return this.cache.length;
  }

  feed(ids: readonly number[]): Float32Array {
    const last = tf.tidy(() => {
      const x = tf.tensor2d(ids as number[], [1, ids.length], 'int32'); // (1, T_new)
      const logits = this.model.forwardCached(x, this.cache); // (1, T_new, V)
      const v = this.model.config.vocabSize;
      return tf.reshape(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, v]), [v]); // (V)
    });
    try {
      return Float32Array.from(last.dataSync()); // a copy: callers edit logits in place
    } finally {
      last.dispose();
    }
  }

  reset(): void {
    this.cache.reset();
  }

  dispose(): void {
    this.cache.dispose();
  }
}

/** The tensor-free path: a {@link Decoder}, rebuilt (empty) if the model's weights changed under it. */
class DecoderStepper implements Stepper {
  private decoder: Decoder;

  constructor(private readonly model: DecoderSource) {
    this.decoder = new Decoder(model);
  }

  /** Rebuilds the decoder first, empty, if the model's weights were replaced since it was built. */
  held(): number {
    if (!this.decoder.isCurrent()) {
      this.decoder.dispose();
      this.decoder = new Decoder(this.model);
    }
    return this.decoder.length;
  }

  feed(ids: readonly number[]): Float32Array {
    return this.decoder.feed(ids);
  }

  reset(): void {
    this.decoder.reset();
  }

  dispose(): void {
    this.decoder.dispose();
  }
}

/** Whether a stepper uses the Decoder when not told: on wasm and cpu, where tfjs's per-op overhead dominates one token. */
export function decoderByDefault(): boolean {
  return ['wasm', 'cpu'].includes(tf.getBackend());
}

/** The stepper a GPT hands out: the Decoder or the tensor cache, as `options.fastDecoder` (or the backend) says. */
export function modelStepper(model: DecoderSource & CachedForward, options: StepperOptions): Stepper {
  const fast = options.fastDecoder ?? decoderByDefault();
  if (typeof fast !== 'boolean') throw new Error(`stepper: fastDecoder must be true or false, got ${String(fast)}.`);
  return fast ? new DecoderStepper(model) : new TensorStepper(model);
}
