import * as tf from '@tensorflow/tfjs-core';

/** Gradients of the mean micro-batch loss, and that mean loss. */
export interface AccumulatedGradients {
  /** ∂L/∂w by weight name, for every weight the loss depends on; owned by the caller. */
  readonly grads: Map<string, tf.Tensor>;
  /** Mean of the micro-batch losses, a scalar owned by the caller (read it only when logging). */
  readonly loss: tf.Scalar;
}

/**
 * Gradient accumulation: simulates one batch of gradAccumSteps × B sequences with
 * gradAccumSteps passes of B, so memory stays that of one micro-batch. With
 *   L = (1/K) Σₖ Lₖ,   ∂L/∂w = Σₖ ∂(Lₖ/K)/∂w
 * each micro-batch loss is divided by K before differentiating and the gradients are summed.
 *
 * `microLoss(k)` builds the loss of micro-batch k; it runs inside the gradient tape, so every
 * tensor it creates and does not return (the batch, activations) is freed after the pass.
 * `divisor` is the K above, gradAccumSteps by default; a data-parallel worker that runs only
 * its share of a step's K micro-batches passes the step's K so that the shares sum to ∂L/∂w.
 */
export function accumulateGradients(
  weights: Map<string, tf.Variable>,
  microLoss: (micro: number) => tf.Scalar,
  gradAccumSteps: number,
  divisor: number = gradAccumSteps,
): AccumulatedGradients {
  if (!Number.isInteger(gradAccumSteps) || gradAccumSteps < 1) {
    throw new Error(`accumulateGradients: gradAccumSteps must be an integer >= 1, got ${String(gradAccumSteps)}.`);
  }
  if (!Number.isInteger(divisor) || divisor < 1) {
    throw new Error(`accumulateGradients: divisor must be an integer >= 1, got ${String(divisor)}.`);
  }
  // variableGrads keys gradients by the engine's variable name; map them back to ours.
  const varList = [...weights.values()].filter((v) => v.trainable);
  if (varList.length === 0) throw new Error('accumulateGradients: the model has no trainable weights.');
  const byEngineName = new Map<string, string>();
  for (const [name, v] of weights) byEngineName.set(v.name, name);

  const sums = new Map<string, tf.Tensor>();
  let lossSum: tf.Scalar | null = null;
  try {
    for (let k = 0; k < gradAccumSteps; k++) {
      const { value, grads } = tf.variableGrads(() => {
        const l = microLoss(k); // ()
        if (!(l instanceof tf.Tensor) || l.rank !== 0) {
          throw new Error('accumulateGradients: microLoss must return a scalar tensor (model.loss(...)).');
        }
        return divisor === 1 ? l : tf.div(l, divisor); // ()
      }, varList);
      for (const [engineName, g] of Object.entries(grads)) {
        if (g == null) continue;
        const name = byEngineName.get(engineName) as string;
        const prev = sums.get(name);
        if (prev === undefined) {
          sums.set(name, g);
        } else {
          sums.set(name, tf.add(prev, g)); // like the weight
          prev.dispose();
          g.dispose();
        }
      }
      if (lossSum === null) {
        lossSum = value;
      } else {
        const next: tf.Scalar = tf.add(lossSum, value); // ()
        lossSum.dispose();
        value.dispose();
        lossSum = next;
      }
    }
  } catch (err) {
    // Free partial sums so a failed step (bad batch, shape error) does not leak memory.
    tf.dispose([...sums.values()]);
    if (lossSum !== null) lossSum.dispose();
    throw err;
  }
  return { grads: sums, loss: lossSum as tf.Scalar };
}
