/**
 * A model folder loaded for inference only (`pipeline(..., { dtype: 'auto' })`): its weights kept
 * in their stored dtype on the DotEngine (src/ops/dot), no tfjs tensors. This is the only way a
 * 32-bit wasm heap runs Gemma 3 1B (2 GB in bfloat16, 4 GB as float32), and on any model it decodes
 * a token by streaming each weight once through SIMD kernels. Generation and chat work through
 * stepper(); forward, loss and training need GPT.fromPretrained.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedGPTConfig } from '../config/config.js';
import { countParams } from '../config/countParams.js';
import type { Decoder } from '../decode/decoder.js';
import type { LanguageModel, Stepper } from '../model/types.js';
import { loadDecoder } from './hostModel.js';

const TRAIN_HINT =
  'this model was loaded for inference only (dtype "auto"); load it with GPT.fromPretrained (dtype "fp32") to run forward passes or train it';

/**
 * One sequence's view of the shared decoder. The decoder holds one KV cache, so a stepper that
 * finds another one's positions in it replays its own history first (exact, and rare: the
 * pipeline and chat run one sequence at a time).
 */
class SharedStepper implements Stepper {
  private readonly history: number[] = [];

  constructor(private readonly owner: InferenceModel) {}

  held(): number {
    return this.history.length;
  }

  feed(ids: readonly number[]): Float32Array {
    const d = this.owner.claim(this);
    const logits = d.length === this.history.length ? d.feed(ids) : (d.reset(), d.feed([...this.history, ...ids]));
    this.history.push(...ids);
    return logits;
  }

  reset(): void {
    this.history.length = 0;
    if (this.owner.holder === this) this.owner.claim(this).reset();
  }

  dispose(): void {
    this.history.length = 0;
    if (this.owner.holder === this) this.owner.holder = undefined;
  }
}

/** A {@link LanguageModel} that generates from a decoder on packed stored-dtype weights. */
export class InferenceModel implements LanguageModel {
  readonly config: ResolvedGPTConfig;
  /** The stepper whose positions the decoder's cache holds. */
  holder: SharedStepper | undefined;
  private disposed = false;

  private constructor(private readonly decoder: Decoder) {
    this.config = decoder.config;
  }

  /** Loads `dir` (any folder GPT.fromPretrained reads) with its weights in their stored dtype. */
  static async load(dir: string): Promise<InferenceModel> {
    return new InferenceModel(await loadDecoder(dir));
  }

  /** The decoder, its cache emptied when another stepper held it. */
  claim(s: SharedStepper): Decoder {
    if (this.disposed) throw new Error('InferenceModel: disposed; load the folder again.');
    if (this.holder !== s) {
      this.decoder.reset();
      this.holder = s;
    }
    return this.decoder;
  }

  stepper(): Stepper {
    return new SharedStepper(this);
  }

  forward(): tf.Tensor3D {
    throw new Error(`forward: ${TRAIN_HINT}.`);
  }

  loss(): tf.Scalar {
    throw new Error(`loss: ${TRAIN_HINT}.`);
  }

  /** None: the weights live in the decoder's memory, not in tfjs variables. */
  namedWeights(): Map<string, tf.Variable> {
    return new Map();
  }

  numParams(): number {
    return countParams(this.config);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.decoder.dispose();
  }
}
