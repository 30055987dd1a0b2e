import * as tf from '@tensorflow/tfjs-core';
import { customOp } from './customOp.js';
import { fusedKernels } from './fused.js';

/**
 * C = A·B for 2-D A (M, K), B (K, N). The gradients dA = dC·Bᵀ and dB = Aᵀ·dC are formed
 * with explicit transposes, so all three products are flag-free 2-D matMuls (XNNPACK on wasm);
 * tfjs's own gradient passes transpose flags, which wasm runs in a scalar loop.
 */
const matMul2dFast = customOp((save, a: tf.Tensor2D, b: tf.Tensor2D) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b), // (M, N)
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), // (M, N)·(N, K) = (M, K)
        tf.matMul(tf.transpose(sa), dy as tf.Tensor2D), // (K, M)·(M, N) = (K, N)
      ];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** 2-D matrix product with XNNPACK-friendly gradients when fused kernels are on. */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return fusedKernels() ? matMul2dFast(a, b) : tf.matMul(a, b);
}

const swapLast = (x: tf.Tensor3D): tf.Tensor3D => tf.transpose(x, [0, 2, 1]);

/** Batched C[g] = A[g]·B[g] for A (G, M, K), B (G, K, N), gradients without transpose flags. */
const batchMatMulFast = customOp((save, a: tf.Tensor3D, b: tf.Tensor3D) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b), // (G, M, N)
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [
        tf.matMul(dy as tf.Tensor3D, swapLast(sb)), // (G, M, N)·(G, N, K) = (G, M, K)
        tf.matMul(swapLast(sa), dy as tf.Tensor3D), // (G, K, M)·(G, M, N) = (G, K, N)
      ];
    },
  };
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/** Batched matrix product over the leading axis. */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return fusedKernels() ? batchMatMulFast(a, b) : tf.matMul(a, b);
}

/** y = x·W + b, the affine map of every linear layer (Conv1D layout: W is (in, out)). */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  const y = matMul2d(x, weight); // (N, out)
  return bias ? tf.add(y, bias) : y; // (N, out)
}
