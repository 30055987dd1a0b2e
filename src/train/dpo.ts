import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../model/types.js';
import { sequenceLogProbs } from '../ops/maskedCrossEntropy.js';
import type { PreferencePair } from './dpoData.js';
import { disposeBatch, padBatch } from './padBatch.js';
import { trainedWeights } from './lora.js';
import { PostTrainer, resolvePostTrainOptions, type PostTrainOptions } from './postTrain.js';
import { truncateExample, type TokenizedExample } from './sftData.js';

/** DPO hyperparameters (TRL's DPOConfig in spirit). */
export interface DPOConfig extends PostTrainOptions {
  /** β: strength of the implicit KL penalty toward the reference (TRL's default 0.1). */
  readonly beta?: number;
  /**
   * TRL's rpo_alpha (Pang et al. 2024, "Iterative Reasoning Preference Optimization"): adds
   * α · the mean NLL per chosen-response token to the loss, which keeps the chosen answers likely
   * while the margin grows (plain DPO may lower both log-probs). Default 0 (off).
   */
  readonly rpoAlpha?: number;
}

/** The metrics TRL's DPOTrainer logs, under its names, averaged over pairs. */
export interface DPOMetrics {
  /** Mean −ln σ(β·margin). */
  readonly loss: number;
  /** Mean β·(log π(y_c|x) − log π_ref(y_c|x)), the implicit reward of the chosen response. */
  readonly 'rewards/chosen': number;
  /** Mean β·(log π(y_r|x) − log π_ref(y_r|x)). */
  readonly 'rewards/rejected': number;
  /** Share of pairs whose chosen reward exceeds the rejected one. */
  readonly 'rewards/accuracies': number;
  /** Mean rewards/chosen − rewards/rejected. */
  readonly 'rewards/margins': number;
  /** Mean log π(y_c|x) summed over response tokens. */
  readonly 'logps/chosen': number;
  /** Mean log π(y_r|x). */
  readonly 'logps/rejected': number;
}

/** One evaluation of a DPO run: the metrics on the eval pairs. */
export interface DPOEvalRecord extends DPOMetrics {
  readonly kind: 'eval';
  readonly step: number;
  readonly ms: number;
}

/** Sequence log-probs of the chosen and rejected responses, one number per pair. */
export interface PairLogProbs {
  readonly chosen: Float32Array;
  readonly rejected: Float32Array;
}

/**
 * The DPO loss (Rafailov et al. 2023, eq. 7), averaged over pairs:
 *   L = −ln σ(β[(log π(y_c) − log π_ref(y_c)) − (log π(y_r) − log π_ref(y_r))]) = softplus(−β·Δ)
 * All four inputs (P) are sequence log-probs; the reference ones are constants.
 */
export function dpoLoss(
  policyChosen: tf.Tensor1D,
  policyRejected: tf.Tensor1D,
  refChosen: tf.Tensor1D,
  refRejected: tf.Tensor1D,
  beta: number,
): tf.Scalar {
  return tf.tidy(() => {
    const delta = tf.sub(tf.sub(policyChosen, refChosen), tf.sub(policyRejected, refRejected)); // (P,)
    return tf.mean(tf.softplus(tf.mul(delta, -beta))) as tf.Scalar; // ()
  });
}

/** TRL's metrics from per-pair log-probs (plain numbers, nothing on the device). */
export function dpoMetrics(policy: PairLogProbs, ref: PairLogProbs, beta: number): DPOMetrics {
  const n = policy.chosen.length;
  let loss = 0;
  let rc = 0;
  let rr = 0;
  let acc = 0;
  let lc = 0;
  let lr = 0;
  for (let i = 0; i < n; i++) {
    const c = beta * (policy.chosen[i] - ref.chosen[i]);
    const r = beta * (policy.rejected[i] - ref.rejected[i]);
    const z = c - r;
    // −ln σ(z) = ln(1 + e^{−z}), written to stay finite for large |z|.
    loss += z > 0 ? Math.log1p(Math.exp(-z)) : -z + Math.log1p(Math.exp(z));
    rc += c;
    rr += r;
    acc += c > r ? 1 : 0;
    lc += policy.chosen[i];
    lr += policy.rejected[i];
  }
  return {
    loss: loss / n,
    'rewards/chosen': rc / n,
    'rewards/rejected': rr / n,
    'rewards/accuracies': acc / n,
    'rewards/margins': (rc - rr) / n,
    'logps/chosen': lc / n,
    'logps/rejected': lr / n,
  };
}

/** Sequence log-probs of many examples (response tokens only), batchSize at a time, dropout off. */
export async function exampleLogProbs(model: LanguageModel, examples: readonly TokenizedExample[], batchSize = 8): Promise<Float32Array> {
  const out = new Float32Array(examples.length);
  for (let i = 0; i < examples.length; i += batchSize) {
    const batch = padBatch(examples.slice(i, i + batchSize));
    try {
      const lp = tf.tidy(() => sequenceLogProbs(model.forward(batch.ids), batch.targets, batch.mask)); // (b,)
      out.set(await lp.data(), i);
      lp.dispose();
    } finally {
      disposeBatch(batch);
    }
  }
  return out;
}

/** log π(y_c|x) and log π(y_r|x) of every pair under `model`. */
export async function pairLogProbs(model: LanguageModel, pairs: readonly PreferencePair[], batchSize = 8): Promise<PairLogProbs> {
  return {
    chosen: await exampleLogProbs(model, pairs.map((p) => p.chosen), batchSize),
    rejected: await exampleLogProbs(model, pairs.map((p) => p.rejected), batchSize),
  };
}

/** A pair with its reference log-probs attached once they are known. */
interface RefPair extends PreferencePair {
  refChosen: number;
  refRejected: number;
}

/**
 * Direct Preference Optimization (TRL's DPOTrainer). The reference policy π_ref is the model
 * as it is when training starts: before the first update its log-probs of every training and
 * eval pair are computed once and cached (TRL's precompute_ref_log_probs), so no second model
 * copy is held and a step costs one forward/backward over the 2B sequences. With LoRA adapters
 * (B = 0 at the start) the cached values are the base model's without adapters.
 * Dropout is off in every pass (TRL's disable_dropout), so policy and reference agree at step 0.
 */
export class DPOTrainer extends PostTrainer<RefPair, DPOEvalRecord> {
  /** β of the loss. */
  readonly beta: number;
  /** Weight of the NLL term on chosen responses (0: plain DPO). */
  readonly rpoAlpha: number;
  private readonly evalPairs: RefPair[];
  private prepared = false;

  constructor(
    model: LanguageModel,
    train: readonly PreferencePair[],
    config: DPOConfig = {},
    options: { readonly evalPairs?: readonly PreferencePair[]; readonly weights?: Map<string, tf.Variable> } = {},
  ) {
    const { beta = 0.1, rpoAlpha = 0, ...rest } = config;
    if (!(Number.isFinite(rpoAlpha) && rpoAlpha >= 0)) throw new Error(`DPOConfig.rpoAlpha must be a finite number >= 0, got ${String(rpoAlpha)}.`);
    if (!(Number.isFinite(beta) && beta > 0)) throw new Error(`DPOConfig.beta must be a finite number > 0 (TRL's default 0.1), got ${String(beta)}.`);
    const o = resolvePostTrainOptions(rest, model, { lr: 5e-5, batchSize: 4, maxIters: 100, warmupIters: 0, weightDecay: 0, evalInterval: 25, logInterval: 5 });
    const cut = (ps: readonly PreferencePair[]): RefPair[] =>
      ps.map((p) => ({ chosen: truncateExample(p.chosen, o.maxLength), rejected: truncateExample(p.rejected, o.maxLength), refChosen: NaN, refRejected: NaN }));
    const trainPairs = cut(train);
    super(model, trainPairs, o, trainedWeights(model, options.weights));
    this.beta = beta;
    this.rpoAlpha = rpoAlpha;
    this.evalPairs = options.evalPairs ? cut(options.evalPairs) : trainPairs;
  }

  protected tokensOf(p: RefPair): number {
    return p.chosen.ids.length + p.rejected.ids.length;
  }

  /** Caches π_ref's log-probs of every pair (train and eval) from the untouched starting model. */
  protected override async prepare(): Promise<void> {
    if (this.prepared) return;
    if (this.step > 0) throw new Error('DPOTrainer: the reference log-probs must be computed before the first update.');
    const all = this.evalPairs === this.examples ? [...this.examples] : [...this.examples, ...this.evalPairs];
    const ref = await pairLogProbs(this.model, all, this.options.batchSize);
    all.forEach((p, i) => {
      p.refChosen = ref.chosen[i];
      p.refRejected = ref.rejected[i];
    });
    this.prepared = true;
  }

  protected microLoss(micros: readonly (readonly RefPair[])[], k: number): tf.Scalar {
    const pairs = micros[k];
    const total = micros.reduce((a, m) => a + m.length, 0);
    const b = pairs.length;
    // One batch of 2B sequences: the chosen ones, then the rejected ones.
    const batch = padBatch([...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)]);
    try {
      return tf.tidy(() => {
        const lp = sequenceLogProbs(this.model.forward(batch.ids), batch.targets, batch.mask); // (2B,)
        const refC = tf.tensor1d(pairs.map((p) => p.refChosen)); // (B,)
        const refR = tf.tensor1d(pairs.map((p) => p.refRejected)); // (B,)
        let mean = dpoLoss(tf.slice(lp, 0, b), tf.slice(lp, b, b), refC, refR, this.beta); // ()
        if (this.rpoAlpha > 0) {
          // RPO: + α · (−Σ chosen log-probs / chosen tokens), the mean NLL per chosen token.
          const chosenTokens = pairs.reduce((a, p) => a + p.chosen.tokenMask.reduce((x, m, i) => x + (i > 0 ? m : 0), 0), 0);
          mean = tf.add(mean, tf.mul(tf.sum(tf.slice(lp, 0, b)), -this.rpoAlpha / chosenTokens)); // ()
        }
        // accumulateGradients divides by K: K·(b/total)·mean sums to the mean over all pairs of the step.
        return tf.mul(mean, (micros.length * b) / total) as tf.Scalar; // ()
      });
    } finally {
      disposeBatch(batch);
    }
  }

  /** TRL's metrics on the eval pairs (the training pairs when none were given). */
  async evaluate(): Promise<DPOEvalRecord> {
    await this.prepare();
    const t0 = performance.now();
    const policy = await pairLogProbs(this.model, this.evalPairs, this.options.batchSize);
    const ref: PairLogProbs = {
      chosen: Float32Array.from(this.evalPairs.map((p) => p.refChosen)),
      rejected: Float32Array.from(this.evalPairs.map((p) => p.refRejected)),
    };
    return { kind: 'eval', step: this.step, ...dpoMetrics(policy, ref, this.beta), ms: performance.now() - t0 };
  }
}
