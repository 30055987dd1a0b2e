import * as tf from '@tensorflow/tfjs-core';
import { wasmSumSquares } from '../ops/wasm/sumSquares.js';

/** Gradients rescaled to a bounded global norm, plus the norm before rescaling. */
export interface ClippedGradients {
  /** New tensors, owned by the caller; same names and shapes as the input. */
  readonly grads: Map<string, tf.Tensor>;
  /** ‖g‖ over all gradients before clipping, a scalar tensor owned by the caller. */
  readonly norm: tf.Scalar;
}

/** The global gradient norm and the factor that clips it, both scalar tensors owned by the caller. */
export interface NormScale {
  /** ‖g‖ over all gradients. */
  readonly norm: tf.Scalar;
  /** min(1, maxNorm / (‖g‖ + 1e-6)): every gradient times this has a global norm ≤ maxNorm. */
  readonly scale: tf.Scalar;
}

/**
 * torch.nn.utils.clip_grad_norm_'s norm and factor without rescaling the gradients:
 *   ‖g‖ = √(Σᵢ Σ gᵢ²),   scale = min(1, maxNorm / (‖g‖ + 1e-6))
 * for an optimizer that folds the factor into its update (AdamW.step's gradScale). Everything
 * stays on the device; the input tensors are not disposed.
 */
export function globalNormScale(grads: Map<string, tf.Tensor>, maxNorm: number): NormScale {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) {
    throw new Error(
      `clipByGlobalNorm: maxNorm must be a finite number > 0, got ${String(maxNorm)}; ` +
        'to disable clipping, skip the call.',
    );
  }
  if (grads.size === 0) throw new Error('clipByGlobalNorm: got no gradients to clip.');
  const [norm, scale] = tf.tidy(() => {
    const sq = [...grads.values()].map((g) => tf.sum(tf.square(g))); // each ()
    const n = tf.sqrt(tf.addN(sq)) as tf.Scalar; // ()
    return [n, tf.minimum(tf.div(maxNorm, tf.add(n, 1e-6)), 1) as tf.Scalar]; // (), ()
  });
  return { norm, scale };
}

/** The global gradient norm and its clip factor as numbers (see {@link heapNormScale}). */
export interface NormScaleValues {
  /** ‖g‖ over all gradients. */
  readonly norm: number;
  /** min(1, maxNorm / (‖g‖ + 1e-6)). */
  readonly scale: number;
}

/**
 * {@link globalNormScale}'s norm and factor as numbers, read straight off the wasm heap (no device
 * sync, no kernels): Σ g² per gradient in float64 (ops/wasm/sumSquares.ts), as the data-parallel
 * workers sum theirs. Undefined unless every gradient is float32 on the wasm heap with the
 * kernels loaded; then the caller takes globalNormScale.
 */
export function heapNormScale(grads: Map<string, tf.Tensor>, maxNorm: number): NormScaleValues | undefined {
  // A bad bound or no gradients: globalNormScale says why.
  if (!(Number.isFinite(maxNorm) && maxNorm > 0) || grads.size === 0) return undefined;
  let sq = 0;
  for (const g of grads.values()) {
    const s = wasmSumSquares(g);
    if (s === undefined) return undefined;
    sq += s;
  }
  const norm = Math.sqrt(sq);
  return { norm, scale: Math.min(1, maxNorm / (norm + 1e-6)) };
}

/**
 * Clips gradients by their global L2 norm (as torch.nn.utils.clip_grad_norm_):
 *   ‖g‖ = √(Σᵢ Σ gᵢ²),   gᵢ ← gᵢ · min(1, maxNorm / (‖g‖ + 1e-6))
 * Everything stays on the device (no data read), so a training step pays no sync for it.
 * The input tensors are not disposed.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): ClippedGradients {
  const { norm, scale } = globalNormScale(grads, maxNorm);
  const clipped = new Map<string, tf.Tensor>();
  for (const [n, g] of grads) clipped.set(n, tf.mul(g, scale)); // like g
  scale.dispose();
  return { grads: clipped, norm };
}
