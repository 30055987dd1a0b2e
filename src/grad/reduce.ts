/**
 * Gradients of reductions and of softmax: a reduction's gradient spreads dy back over the axes
 * it removed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { keptShape, normalizeAxes } from './shapes.js';

const asOne = (dy: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(dy) ? dy[0] : dy);

/** dy of a reduction over `axes`, reshaped with those axes kept (size 1) and broadcast to x's shape. */
function spread(dy: tf.Tensor, x: tf.Tensor, axes: readonly number[]): tf.Tensor {
  return tf.broadcastTo(tf.reshape(dy, keptShape(x.shape, axes)), x.shape);
}

const axesOf = (attrs: tf.NamedAttrMap, key: string, x: tf.Tensor): number[] =>
  normalizeAxes(attrs[key] as number | number[] | null | undefined, x.rank);

export const REDUCE_GRADIENTS: readonly tf.GradConfig[] = [
  // ∂(Σ_axes x)/∂x = 1 for every summed element
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({ x: () => spread(asOne(dy), x, axesOf(attrs, 'axis', x)) }),
  },
  // ∂(mean)/∂x = 1/N, N the number of elements averaged
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const axes = axesOf(attrs, 'axis', x);
      const n = axes.reduce((p, a) => p * x.shape[a], 1);
      return { x: () => tf.div(spread(asOne(dy), x, axes), n) };
    },
  },
  // max passes dy to the elements equal to the maximum (to each of them on ties, as tfjs does)
  {
    kernelName: tf.Max,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, [x, y], attrs) => {
      const axes = axesOf(attrs, 'reductionIndices', x);
      const isMax = tf.cast(tf.equal(x, spread(y, x, axes)), 'float32');
      return { x: () => tf.mul(spread(asOne(dy), x, axes), isMax) };
    },
  },
  // y = softmax(z): ∂L/∂z = y ⊙ (dy − Σ_j dy_j·y_j) along the softmax axis
  {
    kernelName: tf.Softmax,
    outputsToSave: [true],
    gradFunc: (dy, [y], attrs) => {
      const axis = normalizeAxes(attrs.dim as number, y.rank);
      const g = asOne(dy);
      return { logits: () => tf.mul(y, tf.sub(g, tf.sum(tf.mul(g, y), axis, true))) };
    },
  },
  // y = log softmax(z): ∂L/∂z = dy − softmax(z)·Σ_j dy_j, and softmax(z) = e^y
  {
    kernelName: tf.LogSoftmax,
    outputsToSave: [true],
    gradFunc: (dy, [y], attrs) => {
      const axis = normalizeAxes(attrs.axis as number, y.rank);
      const g = asOne(dy);
      return { logits: () => tf.sub(g, tf.mul(tf.exp(y), tf.sum(g, axis, true))) };
    },
  },
];
