import * as tf from '@tensorflow/tfjs-core';
import { customOp } from './customOp.js';
import { wasmCrossEntropy, wasmCrossEntropyAvailable, wasmCrossEntropyGrad } from './wasm/crossEntropy.js';

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
      // A row whose target is outside [0, V) has an all-zero one-hot and adds 0 to L: its
      // gradient is 0, so p is counted only on rows with a target (Σ_j onehot = 1).
      gradFunc: (dy: tf.Tensor, [slogp, sOneHot]: tf.Tensor[]) =>
        tf.mul(tf.sub(tf.mul(tf.exp(slogp), tf.sum(sOneHot, 1, true)), sOneHot), tf.div(dy, n)), // (N, V)
    };
  });
  return f(logits) as tf.Scalar;
}

/** The same loss and gradient on wasm as two heap kernels (ops/wasm/crossEntropy.ts). */
function crossEntropyWasm(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const y = targets.dtype === 'int32' ? targets : (tf.cast(targets, 'int32') as tf.Tensor1D); // (N,)
  const f = customOp((save, z: tf.Tensor2D) => {
    const [loss, p] = wasmCrossEntropy(z, y); // (), (N, V)
    save([p, y]); // saved, not closed over, as above
    return {
      value: loss, // ()
      gradFunc: (dy: tf.Tensor, [sp, sy]: tf.Tensor[]) => wasmCrossEntropyGrad(sp as tf.Tensor2D, sy as tf.Tensor1D, dy as tf.Scalar), // (N, V)
    };
  });
  try {
    return f(logits) as tf.Scalar;
  } finally {
    if (y !== targets) y.dispose();
  }
}

/** Mean of −ln p(target) over rows; logits (N, V), int32 targets (N). */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  if (logits.dtype === 'float32' && wasmCrossEntropyAvailable(logits.shape[1])) return crossEntropyWasm(logits, targets);
  return crossEntropyFast(logits, targets);
}
