import * as tf from '@tensorflow/tfjs-core';

/**
 * ln p(y_n | z_n) = z_n[y_n] − logsumexp(z_n) for every row, from plain differentiable ops
 * (shifted by the row max for stability; the shift cancels in the gradient). logits (N, V), int32 targets (N) → (N).
 * Autograd gives ∂/∂z_n = onehot(y_n) − softmax(z_n) per unit of upstream gradient.
 */
export function tokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const shifted = tf.sub(logits, tf.max(logits, 1, true)); // (N, V)
    const logp = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true))); // (N, V)
    const oneHot = tf.cast(tf.oneHot(tf.cast(targets, 'int32'), logits.shape[1]), 'float32'); // (N, V)
    return tf.sum(tf.mul(logp, oneHot), 1) as tf.Tensor1D; // (N,)
  });
}

/**
 * Masked cross-entropy summed over counted positions: Σ_n m_n · (−ln p(y_n | z_n)), with m_n in
 * {0, 1}. Masked rows contribute exactly 0 to the value and to the gradient (they are multiplied
 * by 0 after the log-softmax, which is finite for finite logits).
 */
export function maskedNllSum(logits: tf.Tensor2D, targets: tf.Tensor1D, mask: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tokenLogProbs(logits, targets), mask))) as tf.Scalar); // ()
}

/**
 * Mean masked cross-entropy L = Σ_n m_n·(−ln p(y_n)) / Σ_n m_n: the SFT loss, averaged over the
 * counted (assistant / completion) tokens only. `count` overrides the denominator Σ m_n, so that
 * micro-batches of one optimizer step can share the step's total count.
 */
export function maskedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, mask: tf.Tensor1D, count?: number): tf.Scalar {
  return tf.tidy(() => {
    const denom = count ?? tf.sum(mask).dataSync()[0];
    if (!(denom > 0)) throw new Error('maskedCrossEntropy: the mask counts no token; every example needs at least one target token.');
    return tf.div(maskedNllSum(logits, targets, mask), denom) as tf.Scalar; // ()
  });
}

/**
 * Sequence log-probabilities Σ_t m_{b,t} · ln p(y_{b,t}): the log π(y | x) of DPO, summed over
 * the response tokens only. logits (B, T, V), int32 targets (B, T), float mask (B, T) → (B).
 */
export function sequenceLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  const [b, t, v] = logits.shape;
  return tf.tidy(() => {
    const lp = tokenLogProbs(tf.reshape(logits, [b * t, v]), tf.reshape(targets, [b * t])); // (B·T,)
    return tf.sum(tf.mul(tf.reshape(lp, [b, t]), mask), 1) as tf.Tensor1D; // (B,)
  });
}
