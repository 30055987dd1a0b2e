import * as tf from '@tensorflow/tfjs-core';
import { wasmAdamW, wasmAdamWAvailable, wasmAdamWInPlace } from '../ops/wasm/adamw.js';

/** AdamW hyperparameters; the learning rate itself is passed to each step by the schedule. */
export interface AdamWOptions {
  /** Learning rate used when step() is called without one. */
  readonly lr?: number;
  /** Decay rate of the first-moment (mean) estimate, in [0, 1). */
  readonly beta1?: number;
  /** Decay rate of the second-moment (uncentred variance) estimate, in [0, 1). */
  readonly beta2?: number;
  /** Added to √v̂ so that a zero second moment does not divide by zero. */
  readonly eps?: number;
  /** Decoupled weight-decay coefficient λ, applied to rank >= 2 weights only. */
  readonly weightDecay?: number;
}

/** Plain-data optimizer state: enough to resume a run bit-for-bit. */
export interface AdamWState {
  /** Number of steps taken so far (the t of the bias correction). */
  readonly step: number;
  /** First moments by parameter name. */
  readonly m: Map<string, Float32Array>;
  /** Second moments by parameter name. */
  readonly v: Map<string, Float32Array>;
}

interface Slot {
  readonly param: tf.Variable;
  readonly m: tf.Variable;
  readonly v: tf.Variable;
  readonly decay: boolean;
}

function checkRate(name: string, x: number, lo: number, hi: number, hiOpen: boolean): void {
  const ok = Number.isFinite(x) && x >= lo && (hiOpen ? x < hi : x <= hi);
  if (!ok) {
    throw new Error(`AdamW: ${name} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${String(x)}.`);
  }
}

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), with the update
 * order and bias correction of PyTorch's torch.optim.AdamW. For each parameter p with
 * gradient g, at step t:
 *   p ← p − lr·λ·p                                   (decoupled decay, rank >= 2 only)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 * Biases and LayerNorm gains/offsets (rank 1) are not decayed: shrinking them toward 0
 * regularises nothing useful and fights LayerNorm's scale.
 */
export class AdamW {
  /** Resolved hyperparameters. */
  readonly options: Readonly<Required<AdamWOptions>>;
  private readonly slots = new Map<string, Slot>();
  private t = 0;
  private disposed = false;

  constructor(params: Map<string, tf.Variable>, options: AdamWOptions = {}) {
    const o = {
      lr: options.lr ?? 1e-3,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.999,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0.01,
    };
    checkRate('lr', o.lr, 0, Infinity, true);
    checkRate('beta1', o.beta1, 0, 1, true);
    checkRate('beta2', o.beta2, 0, 1, true);
    if (!(o.eps > 0)) throw new Error(`AdamW: eps must be > 0 (e.g. 1e-8), got ${String(o.eps)}.`);
    checkRate('weightDecay', o.weightDecay, 0, Infinity, true);
    this.options = Object.freeze(o);
    if (params.size === 0) throw new Error('AdamW: got no parameters; pass model.namedWeights().');
    for (const [name, param] of params) {
      // Non-trainable so that tf.variableGrads() without a varList never differentiates them.
      // tidy frees the zeros once the variable holds its own reference to the buffer.
      const m = tf.tidy(() => tf.variable(tf.zerosLike(param), false)); // same shape as param
      const v = tf.tidy(() => tf.variable(tf.zerosLike(param), false)); // same shape as param
      this.slots.set(name, { param, m, v, decay: param.rank >= 2 });
    }
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.t;
  }

  /** Whether the parameter called `name` receives weight decay. */
  decays(name: string): boolean {
    return this.slot(name, 'decays').decay;
  }

  /**
   * Applies one update from `grads` (by parameter name) at learning rate `lr`.
   * Parameters without a gradient are left untouched, as in PyTorch. Grads are not disposed.
   * `gradScale` (a scalar tensor, e.g. the clip factor of {@link globalNormScale}) multiplies
   * every gradient first, as clipping them would, without a clipped copy of each; a number
   * (clip.ts's heapNormScale) does the same.
   */
  step(grads: Map<string, tf.Tensor>, lr: number = this.options.lr, gradScale?: tf.Scalar | number): void {
    this.checkAlive();
    checkRate('lr', lr, 0, Infinity, true);
    for (const [name, g] of grads) {
      const s = this.slot(name, 'step');
      if (!tf.util.arraysEqual(g.shape, s.param.shape)) {
        throw new Error(
          `AdamW.step: gradient "${name}" has shape [${g.shape.join(', ')}] but the parameter is ` +
            `[${s.param.shape.join(', ')}]; pass the gradients computed for these exact variables.`,
        );
      }
    }
    this.t += 1;
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this.options;
    const stepSize = lr / (1 - b1 ** this.t);
    const sqrtBc2 = Math.sqrt(1 - b2 ** this.t);
    const fused = wasmAdamWAvailable();
    // On wasm the factor is one float on the heap: reading it is a load, not a device sync.
    const scaleValue = typeof gradScale === 'number' ? gradScale : fused && gradScale !== undefined ? gradScale.dataSync()[0] : 1;
    for (const [name, grad] of grads) {
      const { param, m, v, decay } = this.slots.get(name) as Slot;
      const keep = decay && wd > 0 ? 1 - lr * wd : 1;
      const scalars = { beta1: b1, beta2: b2, eps, sqrtBc2, stepSize, keep, scale: scaleValue };
      // On wasm, written over the weight and its moments (the same float32 operations as below).
      if (fused && wasmAdamWInPlace({ param, m, v, g: grad }, scalars)) continue;
      tf.tidy(() => {
        if (fused && param.dtype === 'float32' && grad.dtype === 'float32') {
          // On wasm: the same float32 operations as below, in one pass (ops/wasm/adamw.ts).
          const [p, mNew, vNew] = wasmAdamW({ param, m, v, g: grad }, scalars); // each like param
          m.assign(mNew);
          v.assign(vNew);
          param.assign(p);
          return;
        }
        const g = gradScale === undefined ? grad : tf.mul(grad, gradScale); // same shape as param (a number scale is a float32 operand)
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)); // same shape as param
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)); // same shape as param
        const denom = tf.add(tf.div(tf.sqrt(vNew), sqrtBc2), eps); // same shape as param
        const update = tf.mul(tf.div(mNew, denom), stepSize); // same shape as param
        const base = keep === 1 ? param : tf.mul(param, keep); // same shape as param
        m.assign(mNew);
        v.assign(vNew);
        param.assign(tf.sub(base, update)); // same shape as param
      });
    }
  }

  /** Copies the moments to plain arrays (a GPU→CPU sync; call at checkpoint time only). */
  getState(): AdamWState {
    this.checkAlive();
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const [name, s] of this.slots) {
      m.set(name, Float32Array.from(s.m.dataSync() as Float32Array));
      v.set(name, Float32Array.from(s.v.dataSync() as Float32Array));
    }
    return { step: this.t, m, v };
  }

  /** Restores moments and step count saved by getState(); names and sizes must match. */
  setState(state: AdamWState): void {
    this.checkAlive();
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new Error(`AdamW.setState: step must be an integer >= 0, got ${String(state.step)}.`);
    }
    for (const which of ['m', 'v'] as const) {
      const saved = state[which];
      for (const name of saved.keys()) {
        if (!this.slots.has(name)) {
          throw new Error(
            `AdamW.setState: saved ${which} has "${name}", which is not a parameter of this optimizer; ` +
              'the checkpoint was made for a different model.',
          );
        }
      }
      for (const [name, s] of this.slots) {
        const data = saved.get(name);
        if (data === undefined) {
          throw new Error(`AdamW.setState: saved ${which} lacks parameter "${name}"; the checkpoint is for a different model.`);
        }
        if (data.length !== s.param.size) {
          throw new Error(
            `AdamW.setState: saved ${which} of "${name}" has ${data.length} values but the parameter has ` +
              `${s.param.size} (shape [${s.param.shape.join(', ')}]); the checkpoint is for a different model size.`,
          );
        }
      }
    }
    for (const [name, s] of this.slots) {
      tf.tidy(() => {
        s.m.assign(tf.tensor(state.m.get(name) as Float32Array, s.param.shape, 'float32')); // same shape as param
        s.v.assign(tf.tensor(state.v.get(name) as Float32Array, s.param.shape, 'float32')); // same shape as param
      });
    }
    this.t = state.step;
  }

  /** Frees the moment variables; the optimizer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.disposed = true;
  }

  private slot(name: string, where: string): Slot {
    const s = this.slots.get(name);
    if (s === undefined) {
      throw new Error(
        `AdamW.${where}: "${name}" is not one of the optimizer's parameters ` +
          `(${[...this.slots.keys()].slice(0, 5).join(', ')}${this.slots.size > 5 ? ', …' : ''}); ` +
          'build the optimizer from the same model.namedWeights() the gradients come from.',
      );
    }
    return s;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('AdamW: this optimizer was disposed; create a new one.');
  }
}
