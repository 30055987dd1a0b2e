import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../../model/types.js';
import { accumulateGradients } from '../accumulate.js';
import { checkSameLayout, flatLayout, type FlatLayout } from './layout.js';
import type { DoneReply, ReplicaInit, StepRequest } from './messages.js';

/**
 * One data-parallel replica, free of any thread API so that a Node worker, a Web Worker or a
 * test on the main thread can drive it. Per step it copies the shared weights into its model,
 * computes Σₖ ∂(Lₖ/K)/∂w over its micro-batches k in order, and writes that into its slot.
 */
export class Replica {
  private readonly weights: Map<string, tf.Variable>;
  private readonly layout: FlatLayout;
  private readonly weightView: Float32Array;
  private readonly gradView: Float32Array;
  private readonly tokenView: Int32Array;
  private readonly control: Int32Array;

  constructor(
    private readonly init: ReplicaInit,
    private readonly model: LanguageModel,
  ) {
    this.weights = model.namedWeights();
    this.layout = init.layout;
    checkSameLayout(init.layout, flatLayout([...this.weights].map(([n, v]) => [n, v.shape] as const)));
    const total = init.layout.total;
    this.weightView = new Float32Array(init.shared.weights);
    this.gradView = new Float32Array(init.shared.grads, init.index * total * Float32Array.BYTES_PER_ELEMENT, total);
    this.tokenView = new Int32Array(init.shared.tokens);
    this.control = new Int32Array(init.control);
  }

  /** Runs one step's share; the gradient is in shared memory when this resolves. */
  async step(req: StepRequest): Promise<DoneReply> {
    const { micro: K, batchSize: B, blockSize: T } = this.init;
    // The main thread publishes the step number after writing weights and tokens (a fence).
    const published = Atomics.load(this.control, 0);
    if (published !== req.step) {
      throw new Error(`replica ${this.init.index + 1}: asked for step ${req.step} but shared memory holds step ${published}.`);
    }
    if (req.seeds.length !== req.end - req.start) {
      throw new Error(`replica ${this.init.index + 1}: ${req.seeds.length} seeds for micro-batches [${req.start}, ${req.end}).`);
    }
    for (const e of this.layout.entries) {
      const v = this.weights.get(e.name) as tf.Variable;
      // slice(): a private copy, so no tensor ever aliases memory another thread writes.
      tf.tidy(() => v.assign(tf.tensor(this.weightView.slice(e.offset, e.offset + e.size), [...e.shape], 'float32'))); // like the weight
    }
    const bt = B * T;
    const { grads, loss } = accumulateGradients(
      this.weights,
      (i) => {
        const k = req.start + i;
        const x = tf.tensor2d(this.tokenView.slice(2 * k * bt, (2 * k + 1) * bt), [B, T], 'int32'); // (B, T)
        const y = tf.tensor2d(this.tokenView.slice((2 * k + 1) * bt, (2 * k + 2) * bt), [B, T], 'int32'); // (B, T)
        return this.model.loss(x, y, { training: true, seed: req.seeds[i] }); // ()
      },
      req.end - req.start,
      K,
    );
    const missing: string[] = [];
    let lossValue: number;
    try {
      for (const e of this.layout.entries) {
        const g = grads.get(e.name);
        if (g === undefined) {
          missing.push(e.name);
          this.gradView.fill(0, e.offset, e.offset + e.size);
        } else {
          this.gradView.set(await g.data(), e.offset);
        }
      }
      lossValue = (await loss.data())[0];
    } finally {
      tf.dispose([loss, ...grads.values()]);
    }
    // Publishes the gradient slot (a fence) before the reply is posted.
    Atomics.store(this.control, 1 + this.init.index, req.step);
    return { type: 'done', step: req.step, loss: lossValue, missing, numTensors: tf.memory().numTensors };
  }

  /** Frees the replica's model. */
  dispose(): void {
    this.model.dispose();
  }
}
