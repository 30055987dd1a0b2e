import * as tf from '@tensorflow/tfjs-core';
import { customOp } from './customOp.js';

/** log softmax along the last axis: z − logsumexp(z), shifted by the row max for stability. */
function logSoftmaxRows(logits: tf.Tensor2D): tf.Tensor2D {
  const shifted = tf.sub(logits, tf.max(logits, 1, true)); // (N, V)
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true))); // (N, V)
}

/**
 * Mean cross-entropy L = −(1/N) Σ_n ln softmax(z_n)[y_n] with the gradient written out:
 * ∂L/∂z_n = (softmax(z_n) − onehot(y_n)) / N, one fused expression instead of autograd's chain.
 */
function crossEntropyFast(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const [n, v] = logits.shape;
  const oneHot = tf.cast(tf.oneHot(targets, v), 'float32'); // (N, V)
  const f = customOp((save, z: tf.Tensor2D) => {
    const logp = logSoftmaxRows(z); // (N, V)
    save([logp, oneHot]); // saved, not closed over: the tape frees closures before backprop
    const picked = tf.sum(tf.mul(logp, oneHot), 1); // (N,) ln p(y_n)
    return {
      value: tf.neg(tf.mean(picked)), // ()
      gradFunc: (dy: tf.Tensor, [slogp, sOneHot]: tf.Tensor[]) =>
        tf.mul(tf.sub(tf.exp(slogp), sOneHot), tf.div(dy, n)), // (N, V)
    };
  });
  return f(logits) as tf.Scalar;
}

/** Mean of −ln p(target) over rows; logits (N, V), int32 targets (N). */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  return crossEntropyFast(logits, targets);
}
