import * as tf from '@tensorflow/tfjs-core';

/** Gradients rescaled to a bounded global norm, plus the norm before rescaling. */
export interface ClippedGradients {
  /** New tensors, owned by the caller; same names and shapes as the input. */
  readonly grads: Map<string, tf.Tensor>;
  /** ‖g‖ over all gradients before clipping, a scalar tensor owned by the caller. */
  readonly norm: tf.Scalar;
}

/**
 * Clips gradients by their global L2 norm (as torch.nn.utils.clip_grad_norm_):
 *   ‖g‖ = √(Σᵢ Σ gᵢ²),   gᵢ ← gᵢ · min(1, maxNorm / (‖g‖ + 1e-6))
 * Everything stays on the device (no data read), so a training step pays no sync for it.
 * The input tensors are not disposed.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): ClippedGradients {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) {
    throw new Error(
      `clipByGlobalNorm: maxNorm must be a finite number > 0, got ${String(maxNorm)}; ` +
        'to disable clipping, skip the call.',
    );
  }
  if (grads.size === 0) throw new Error('clipByGlobalNorm: got no gradients to clip.');
  const names = [...grads.keys()];
  const tensors = names.map((n) => grads.get(n) as tf.Tensor);
  // tidy cannot return a Map, so the result travels as [norm, ...grads] in names' order.
  const out = tf.tidy(() => {
    const sq = tensors.map((g) => tf.sum(tf.square(g))); // each ()
    const norm = tf.sqrt(tf.addN(sq)) as tf.Scalar; // ()
    const scale = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1); // ()
    return [norm, ...tensors.map((g) => tf.mul(g, scale))]; // each like its input
  });
  const clipped = new Map<string, tf.Tensor>();
  names.forEach((n, i) => clipped.set(n, out[i + 1]));
  return { grads: clipped, norm: out[0] as tf.Scalar };
}
