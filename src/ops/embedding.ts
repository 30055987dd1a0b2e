import * as tf from '@tensorflow/tfjs-core';
import { customOp } from './customOp.js';
import { fusedKernels } from './fused.js';
import { matMul2d } from './matmul.js';

/**
 * Row lookup E[ids] for a table E (V, C) and flat int32 ids (N) → (N, C).
 * Forward is a gather; its tfjs gradient needs UnsortedSegmentSum, which wasm lacks,
 * so the gradient is written as dE = onehot(ids)ᵀ·dY, a plain 2-D matMul.
 */
function embeddingFast(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const f = customOp((save, e: tf.Tensor2D) => {
    save([ids]); // saved, not closed over: the tape frees closures before backprop
    return {
      value: tf.gather(e, ids), // (N, C)
      gradFunc: (dy: tf.Tensor, [sIds]: tf.Tensor[]) => {
        const oneHotT = tf.transpose(tf.cast(tf.oneHot(sIds as tf.Tensor1D, table.shape[0]), 'float32')); // (V, N)
        return tf.matMul(oneHotT as tf.Tensor2D, dy as tf.Tensor2D); // (V, N)·(N, C) = (V, C)
      },
    };
  });
  return f(table) as tf.Tensor2D;
}

/** Reference path: the lookup as onehot(ids)·E, differentiable on every backend. */
function embeddingPlain(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const oneHot = tf.cast(tf.oneHot(ids, table.shape[0]), 'float32') as tf.Tensor2D; // (N, V)
  return matMul2d(oneHot, table); // (N, C)
}

/** Embedding lookup with a gradient that works on wasm, cpu and tfjs-node. */
export function embedding(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  return fusedKernels() ? embeddingFast(table, ids) : embeddingPlain(table, ids);
}
