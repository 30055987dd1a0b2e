/**
 * Whether ops use their hand-written gradients (tf.customGrad) or tfjs's autograd.
 * Both compute the same values (to float32 rounding); the custom ones keep every matMul on
 * XNNPACK on wasm (2-D without transpose flags, batched ones slice by slice, see
 * wasmBatchMatMul.ts), fold bias adds into the matMul and bias gradients into 1ᵀ·dY products,
 * run attention straight from the fused q|k|v projection, compute GeLU and its slope in one wasm
 * kernel, and write the LayerNorm and cross-entropy backward passes in closed form.
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

