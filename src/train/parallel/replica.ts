import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../../model/types.js';
import { readFromHeap } from '../../ops/wasm/heapCopy.js';
import { updateKernelsOn } from '../../ops/wasm/heapKernels.js';
import { accumulateGradients } from '../accumulate.js';
import { arriveAndWait, phaseIndex, PHASE } from './barrier.js';
import { adamwSpan, clipFactor, reduceSpan, type FlatKernels } from './flatAdamW.js';
import { assignFromFlat, checkSameLayout, flatLayout, flatViews, type FlatLayout } from './layout.js';
import type { DoneReply, ReplicaInit, StepRequest, UnitRequest } from './messages.js';
import { shareOf } from './units.js';

/**
 * One data-parallel replica, free of any thread API so that a Node worker, a Web Worker or a
 * test on the main thread can drive it. Per step, with no help from the main thread:
 *   1. copy the shared weights into its model and compute Σ_units ∂(wᵤ·Lᵤ)/∂w into its slot;
 *   2. (all slots written) sum the slots over its own span of the flat buffer, in worker order,
 *      and write that span's Σ g²;
 *   3. (all spans summed) take ‖g‖ from every span's Σ g², and apply clip + AdamW to its span of
 *      the shared weights and moments.
 * So the reduction and the optimizer run on every core at once, each over 1/N of the weights.
 */
export class Replica {
  private readonly weights: Map<string, tf.Variable>;
  private readonly layout: FlatLayout;
  private readonly params: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly slots: readonly Float32Array[];
  private readonly kernels: FlatKernels | undefined;
  private readonly used: Int32Array;
  private readonly norms: Float64Array;
  private readonly tokenView: Int32Array;
  private readonly control: Int32Array;
  /** This worker's span [start, end) of the flat buffer for the sum and the update. */
  private readonly span: readonly [number, number];

  constructor(
    private readonly init: ReplicaInit,
    private readonly model: LanguageModel,
  ) {
    this.weights = model.namedWeights();
    this.layout = init.layout;
    checkSameLayout(init.layout, flatLayout([...this.weights].map(([n, v]) => [n, v.shape] as const)));
    const { total } = init.layout;
    const sh = init.shared;
    const views = flatViews(sh.flat, total, init.workers);
    this.params = views.params;
    this.m = views.m;
    this.v = views.v;
    this.slots = views.slots;
    // On a shared wasm memory the sums and AdamW run as heapKernels.wat's SIMD loops.
    const ex = sh.flat instanceof WebAssembly.Memory ? updateKernelsOn(sh.flat) : undefined;
    this.kernels = ex === undefined ? undefined : { ex, at: views.at };
    this.used = new Int32Array(sh.used);
    this.norms = new Float64Array(sh.norms);
    this.tokenView = new Int32Array(sh.tokens);
    this.control = new Int32Array(init.control);
    this.span = shareOf(init.index, init.workers, total);
  }

  /** Runs one step's share, the reduction of its span and the update of its span. */
  async step(req: StepRequest): Promise<DoneReply> {
    const { index: w, workers: N } = this.init;
    // The main thread publishes step + 1 after writing the tokens (a fence).
    const published = Atomics.load(this.control, 0);
    if (published !== req.step + 1) {
      throw new Error(`replica ${w + 1}: asked for step ${req.step} but shared memory holds step ${published - 1}.`);
    }
    const t0 = performance.now();
    assignFromFlat(this.layout, this.params, this.weights, true);
    const t1 = performance.now();
    const loss = await this.gradientsIntoSlot(req.units);
    const t2 = performance.now();
    arriveAndWait(this.control, PHASE.grads, w, N, req.step);
    const t3 = performance.now();
    const [a, b] = this.span;
    const sum = this.slots[0];
    // Slot by slot in worker order, each sum rounded to float32: tf.add's chain.
    this.norms[w] = reduceSpan(this.slots, a, b, this.layout.total, this.kernels);
    const t4 = performance.now();
    arriveAndWait(this.control, PHASE.norms, w, N, req.step);
    const t5 = performance.now();
    let sq = 0;
    for (let s = 0; s < N; s++) sq += this.norms[s];
    const norm = Math.sqrt(sq);
    const { hyper } = this.init;
    const step = { ...hyper, lr: req.lr, t: req.t, gradScale: clipFactor(norm, hyper.gradClip) };
    adamwSpan({ params: this.params, m: this.m, v: this.v, grads: sum }, this.layout.entries, this.usedAnywhere(), a, b, step, this.kernels);
    // Publishes this span's new weights (a fence) before the reply is posted.
    Atomics.store(this.control, phaseIndex(PHASE.updated, w, N), req.step + 1);
    const phases = { load: t1 - t0, grads: t2 - t1, wait: t3 - t2 + (t5 - t4), reduce: t4 - t3, update: performance.now() - t5 };
    return { type: 'done', step: req.step, loss, norm, phases, numTensors: tf.memory().numTensors };
  }

  /** Frees the replica's model. */
  dispose(): void {
    this.model.dispose();
  }

  /** Σ over the units of ∂(wᵤ·Lᵤ)/∂w into this worker's slot; returns Σ wᵤ·Lᵤ. */
  private async gradientsIntoSlot(units: readonly UnitRequest[]): Promise<number> {
    const { micro: K, batchSize: B, blockSize: T, index: w } = this.init;
    const slot = this.slots[w];
    const E = this.layout.entries.length;
    if (units.length === 0) {
      slot.fill(0);
      this.used.fill(0, w * E, (w + 1) * E);
      return 0;
    }
    const bt = B * T;
    const { grads, loss } = accumulateGradients(
      this.weights,
      (i) => {
        const { micro: k, rowStart: r0, rowEnd: r1, seed } = units[i];
        const xAt = 2 * k * bt;
        const yAt = (2 * k + 1) * bt;
        const x = tf.tensor2d(this.tokenView.slice(xAt + r0 * T, xAt + r1 * T), [r1 - r0, T], 'int32'); // (b, T)
        const y = tf.tensor2d(this.tokenView.slice(yAt + r0 * T, yAt + r1 * T), [r1 - r0, T], 'int32'); // (b, T)
        const l = this.model.loss(x, y, { training: true, seed }); // () mean over the unit's tokens
        // Whole micro-batches divide by K exactly as one thread does; a shard of b rows weighs b/(B·K).
        return r1 - r0 === B ? tf.div(l, K) : tf.mul(l, (r1 - r0) / (B * K)); // ()
      },
      units.length,
      1,
    );
    try {
      this.layout.entries.forEach((e, i) => {
        const g = grads.get(e.name);
        this.used[w * E + i] = g === undefined ? 0 : 1;
        if (g === undefined) slot.fill(0, e.offset, e.offset + e.size);
        else if (!readFromHeap(g, slot, e.offset)) slot.set(g.dataSync() as Float32Array, e.offset);
      });
      return loss.dataSync()[0];
    } finally {
      tf.dispose([loss, ...grads.values()]);
    }
  }

  /** Per layout entry: 1 when any worker's loss depends on the weight. */
  private usedAnywhere(): Int32Array {
    const E = this.layout.entries.length;
    const any = new Int32Array(E);
    for (let s = 0; s < this.init.workers; s++) for (let e = 0; e < E; e++) any[e] |= this.used[s * E + e];
    return any;
  }
}
