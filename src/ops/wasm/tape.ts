import * as tf from '@tensorflow/tfjs-core';

/**
 * The two facts about tfjs-core's gradient tape that tinygpt's custom gradients need and tfjs's
 * public API does not expose; they read tfjs-core 4.22's engine state, so they live here with the
 * other code on tfjs internals.
 */

/** Whether a gradient tape is recording (inside tf.grads / variableGrads), so ops must save what their gradient needs. */
export function tapeIsRecording(): boolean {
  return tf.engine().isTapeOn();
}

/** Whether the backward pass running now is the outermost one (not a gradient of a gradient). */
export function inOutermostBackward(): boolean {
  return tf.engine().state.gradientDepth === 0;
}
