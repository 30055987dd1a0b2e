import * as tf from '@tensorflow/tfjs-core';
import { useAliasingIdentity } from './wasm/aliasIdentity.js';
import { inOutermostBackward, tapeIsRecording } from './wasm/tape.js';

/** What a hand-differentiated op returns: its value and dL/dinputs given dL/dvalue. */
export interface CustomResult {
  readonly value: tf.Tensor;
  readonly gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * A typed front for tf.customGrad: tfjs passes the save function last among untyped
 * arguments; here it comes first and the tensor inputs keep their types.
 *
 * Memory: tfjs calls a custom gradient outside any tidy and keeps what it saved until the whole
 * backward pass ends, so a training step would hold every temporary of every backward op and every
 * saved activation at once. Here the gradient runs in a tidy, and in an outermost backward pass
 * (not a higher-order one, where the outer tape may still need them) the saved tensors are freed
 * as soon as their op's gradient is done; tfjs's own clean-up later skips them (dispose is idempotent).
 */
export function customOp<I extends tf.Tensor[]>(
  f: (save: tf.GradSaveFunc, ...inputs: I) => CustomResult,
): (...inputs: I) => tf.Tensor {
  const wrapped = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { value, gradFunc } = f(save, ...(args.slice(0, -1) as I));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const grads = tf.tidy(() => gradFunc(dy, saved));
        if (inOutermostBackward()) tf.dispose(saved);
        return grads;
      },
    };
  });
  const noSave: tf.GradSaveFunc = () => undefined;
  // With no gradient being recorded (inference, generation) the custom-gradient machinery is pure
  // overhead (a scope and a saved copy per call, ~40% of a cached decoding step): run the forward alone.
  return (...inputs: I) => {
    if (!tapeIsRecording()) return tf.tidy(() => f(noSave, ...inputs).value);
    useAliasingIdentity(); // saving clones each saved tensor: on wasm, share it rather than copy it
    return wrapped(...inputs);
  };
}
