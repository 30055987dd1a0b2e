import * as tf from '@tensorflow/tfjs-core';

/** What a hand-differentiated op returns: its value and dL/dinputs given dL/dvalue. */
export interface CustomResult {
  readonly value: tf.Tensor;
  readonly gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * A typed front for tf.customGrad: tfjs passes the save function last among untyped
 * arguments; here it comes first and the tensor inputs keep their types.
 */
export function customOp<I extends tf.Tensor[]>(
  f: (save: tf.GradSaveFunc, ...inputs: I) => CustomResult,
): (...inputs: I) => tf.Tensor {
  const wrapped = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return f(save, ...(args.slice(0, -1) as I));
  });
  return (...inputs: I) => wrapped(...inputs);
}
