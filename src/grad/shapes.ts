/**
 * Shape arithmetic shared by the gradient configs: axis normalisation and the reduction that
 * undoes broadcasting (a gradient must come back in its input's shape).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Axes as non-negative integers for a tensor of rank `rank` (null, undefined or [] → all axes, as tfjs reads them). */
export function normalizeAxes(axis: number | number[] | null | undefined, rank: number): number[] {
  const list = axis === undefined || axis === null ? [] : Array.isArray(axis) ? axis : [axis];
  if (list.length === 0) return Array.from({ length: rank }, (_, i) => i);
  return list.map((a) => (a < 0 ? a + rank : a));
}

/** `shape` with every axis in `axes` kept as size 1: the shape of a keepDims reduction. */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((n, i) => (axes.includes(i) ? 1 : n));
}

/**
 * Sums `g` (the gradient of a broadcast result) back to `shape`. Broadcasting aligns shapes on
 * the right, so leading extra axes and axes where `shape` has size 1 were repeated: their
 * contributions add up (∂/∂a of Σ f(a broadcast) = Σ over the copies).
 */
export function unbroadcast(g: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length > 0 ? tf.sum(g, axes) : g;
  return tf.reshape(summed, [...shape]);
}

/** The permutation that undoes `perm`: inverse[perm[i]] = i. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
}
