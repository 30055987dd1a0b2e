/**
 * Whether ops use their hand-written gradients (tf.customGrad) or tfjs's autograd.
 * Both compute the same values; the custom ones keep every matMul 2-D without transpose
 * flags, which is what wasm hands to XNNPACK (about 10x faster than its generic loop),
 * and they fold LayerNorm, GeLU and cross-entropy backward passes into a few ops.
 * The plain path exists so tests can check the fast one against it.
 */
let fused = true;

/** Turns the hand-written gradients on (default) or off; returns the previous setting. */
export function setFusedKernels(on: boolean): boolean {
  const previous = fused;
  fused = on;
  return previous;
}

/** True when ops should use their hand-written gradients. */
export function fusedKernels(): boolean {
  return fused;
}
