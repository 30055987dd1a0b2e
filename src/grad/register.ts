/**
 * Registers the gradients of every kernel that tinygpt's forward and backward passes record on
 * the tape, so training needs only @tensorflow/tfjs-core and its backends (the union package
 * @tensorflow/tfjs registers all ~100 of tfjs's gradients, at ten times the install size).
 * The list was taken by recording which gradients the whole test suite calls on both backends (24
 * kernels), plus Sqrt, LogSoftmax, Cast, Softplus (DPO) and PadV2 (adapters); test/gradients.test.ts checks each against finite
 * differences. A gradient already registered (for instance by
 * an import of @tensorflow/tfjs) is left in place.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ELEMENTWISE_GRADIENTS } from './elementwise.js';
import { REDUCE_GRADIENTS } from './reduce.js';
import { SHAPE_GRADIENTS } from './shape.js';

/** Every gradient config tinygpt provides, by kernel name. */
export const TINYGPT_GRADIENTS: readonly tf.GradConfig[] = [...ELEMENTWISE_GRADIENTS, ...REDUCE_GRADIENTS, ...SHAPE_GRADIENTS];

/** Registers the gradients above that tfjs does not have yet; safe to call more than once. */
export function registerGradients(): void {
  for (const config of TINYGPT_GRADIENTS) {
    if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
  }
}

registerGradients();
