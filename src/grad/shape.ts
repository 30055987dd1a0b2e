/**
 * Gradients of the kernels that only move values (reshape, transpose, split, slice, concat)
 * and of the batched matrix product.
 */
import * as tf from '@tensorflow/tfjs-core';
import { inversePermutation, normalizeAxes, unbroadcast } from './shapes.js';

const asOne = (dy: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(dy) ? dy[0] : dy);
const asList = (dy: tf.Tensor | tf.Tensor[]): tf.Tensor[] => (Array.isArray(dy) ? dy : [dy]);

/** Slice's begin and size for every axis, size −1 meaning "to the end" (as tf.slice reads them). */
function sliceBounds(
  shape: readonly number[],
  begin: number | number[],
  size: number | number[] | undefined,
): [number[], number[]] {
  const b = shape.map((_, i) => (Array.isArray(begin) ? (begin[i] ?? 0) : i === 0 ? begin : 0));
  const s = shape.map((n, i) => {
    const v = size === undefined ? -1 : Array.isArray(size) ? (size[i] ?? -1) : i === 0 ? size : -1;
    return v === -1 ? n - b[i] : v;
  });
  return [b, s];
}

export const SHAPE_GRADIENTS: readonly tf.GradConfig[] = [
  {
    // y = pad(x, [[before_i, after_i]]): each x element sits at its index + before_i in y, so dx is that slice of dy.
    kernelName: tf.PadV2,
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const before = (attrs.paddings as Array<[number, number]>).map(([b]) => b);
      return { x: () => tf.slice(asOne(dy), before, x.shape) };
    },
  },
  {
    kernelName: tf.Reshape,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.reshape(asOne(dy), x.shape) }),
  },
  // y = transpose(x, perm) moves axis perm[i] to i; the inverse permutation moves it back
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _saved, attrs) => ({ x: () => tf.transpose(asOne(dy), inversePermutation(attrs.perm as number[])) }),
  },
  // the pieces of a split, joined again along the split axis
  {
    kernelName: tf.SplitV,
    gradFunc: (dy, _saved, attrs) => ({ x: () => tf.concat(asList(dy), attrs.axis as number) }),
  },
  // a slice's gradient is dy placed at its position in zeros of x's shape
  {
    kernelName: tf.Slice,
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const [begin, size] = sliceBounds(x.shape, attrs.begin as number | number[], attrs.size as number | number[] | undefined);
      const padding = x.shape.map((n, i): [number, number] => [begin[i], n - begin[i] - size[i]]);
      return { x: () => tf.pad(asOne(dy), padding) };
    },
  },
  // concat's inputs are named '0', '1', …: each gets its own stretch of dy along the axis
  {
    kernelName: tf.Concat,
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const axis = normalizeAxes(attrs.axis as number, saved[0].rank)[0];
      const pieces = tf.split(
        asOne(dy),
        saved.map((t) => t.shape[axis]),
        axis,
      );
      return Object.fromEntries(pieces.map((p, i) => [String(i), () => p]));
    },
  },
  // C = op(A)·op(B): dA and dB are products of dy with the other factor, transposed to match
  // (for C = A·B: dA = dy·Bᵀ, dB = Aᵀ·dy), then summed over any broadcast batch axes
  {
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], attrs) => {
      const g = asOne(dy);
      const ta = attrs.transposeA as boolean;
      const tb = attrs.transposeB as boolean;
      const m = tf.matMul;
      const da = (): tf.Tensor => {
        if (!ta && !tb) return m(g, b, false, true);
        if (!ta && tb) return m(g, b, false, false);
        if (ta && !tb) return m(b, g, false, true);
        return m(b, g, true, true);
      };
      const db = (): tf.Tensor => {
        if (!ta && !tb) return m(a, g, true, false);
        if (!ta && tb) return m(g, a, true, false);
        if (ta && !tb) return m(a, g, false, false);
        return m(g, a, true, true);
      };
      return { a: () => unbroadcast(da(), a.shape), b: () => unbroadcast(db(), b.shape) };
    },
  },
];
