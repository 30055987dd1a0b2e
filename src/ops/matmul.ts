import * as tf from '@tensorflow/tfjs-core';
import { customOp } from './customOp.js';
import { transpose2d } from './transpose.js';
import { wasmColumnSums } from './wasm/columnSums.js';
import { wasmMatMul, wasmMatMulColumnSums } from './wasm/matMul.js';
import { groupedBatchMatMul } from './wasm/batchMatMul.js';

/**
 * Column sums Σ_rows x (N, C) → (C), the bias gradient of every layer: on wasm one heap-kernel
 * pass (ops/wasm/columnSums.ts); elsewhere the product 1ᵀ·x, faster than Sum over axis 0.
 */
export function columnSums(x: tf.Tensor2D): tf.Tensor1D {
  const [n, c] = x.shape;
  return wasmColumnSums(x) ?? tf.tidy(() => tf.reshape(tf.matMul(tf.ones([1, n]), x), [c]) as tf.Tensor1D); // (1, N)·(N, C) → (C)
}

/** A·B (+ bias) for 2-D A (M, K), B (K, N): on wasm the packed heap kernel where it fits, else XNNPACK (fused with the bias). */
function mm(a: tf.Tensor2D, b: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  const y = wasmMatMul(a, b, { bias }); // (M, N)
  if (y) return y;
  return (bias ? tf.fused.matMul({ a, b, bias }) : tf.matMul(a, b)) as tf.Tensor2D; // (M, N)
}

/** Aᵀ·B for 2-D A (K, M), B (K, N): on wasm the heap kernel reads A transposed in place, else an explicit transpose then a flag-free product. */
function matMulTN(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return wasmMatMul(a, b, { transposeA: true }) ?? mm(transpose2d(a), b); // (M, K)·(K, N) = (M, N)
}

/** A·Bᵀ for 2-D A (M, K), B (N, K): on wasm the heap kernel reads B transposed in place, else an explicit transpose then a flag-free product. */
function matMulNT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return wasmMatMul(a, b, { transposeB: true }) ?? mm(a, transpose2d(b)); // (M, K)·(K, N) = (M, N)
}

/**
 * C = A·B for 2-D A (M, K), B (K, N). The gradients dA = dC·Bᵀ and dB = Aᵀ·dC are products
 * that read B or A transposed in place (the heap kernel on wasm), or explicit transposes then
 * flag-free products (XNNPACK on wasm where the heap kernel does not fit); tfjs's own gradient
 * passes transpose flags, which wasm runs in a scalar loop.
 */
const matMul2dFast = customOp((save, a: tf.Tensor2D, b: tf.Tensor2D) => {
  save([a, b]);
  return {
    value: mm(a, b), // (M, N)
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        matMulNT(dy as tf.Tensor2D, sb), // (M, N)·(N, K) = (M, K)
        matMulTN(sa, dy as tf.Tensor2D), // (K, M)·(M, N) = (K, N)
      ];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * C = A·Bᵀ for 2-D A (M, K), B (N, K): a tied or untied LM head h·Wᵀ without a transpose of W.
 * dA = dC·B and dB = dCᵀ·A are a plain product and one that reads dC transposed.
 */
const matMul2dNTFast = customOp((save, a: tf.Tensor2D, b: tf.Tensor2D) => {
  save([a, b]);
  return {
    value: matMulNT(a, b), // (M, N)
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        mm(dy as tf.Tensor2D, sb), // (M, N)·(N, K) = (M, K)
        matMulTN(dy as tf.Tensor2D, sa), // (N, M)·(M, K) = (N, K)
      ];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** A·Bᵀ for 2-D A (M, K), B (N, K), differentiable; no transpose of B is formed on wasm. */
export function matMul2dNT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMul2dNTFast(a, b);
}

/**
 * op(A)·op(B) for 2-D operands as one product, not differentiable by itself (for the inside of a
 * custom gradient): the heap kernel on wasm, else flag-free products after explicit transposes.
 */
export function product2d(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  if (transposeA && transposeB) return mm(transpose2d(a), transpose2d(b)); // (M, K)·(K, N)
  if (transposeA) return matMulTN(a, b); // (M, N)
  return transposeB ? matMulNT(a, b) : mm(a, b); // (M, N)
}

/** 2-D matrix product with XNNPACK-friendly gradients. */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMul2dFast(a, b);
}

/**
 * y = x·W + b in one product (the bias starts the sums), with dx = dy·Wᵀ and dW = xᵀ·dy
 * products that read W or x transposed in place, and db the column sums of dy (on wasm from dW's
 * product itself).
 */
const linearBiasFast = customOp((save, x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => {
  save([x, w]);
  return {
    value: mm(x, w, b), // (N, out)
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D; // (N, out)
      const dx = matMulNT(g, sw); // (N, out)·(out, in) = (N, in)
      // On wasm dW's product also sums dy's columns as it packs them: db at no extra pass.
      const fused = wasmMatMulColumnSums(sx, g, true); // (in, out), (out)
      return fused ? [dx, ...fused] : [dx, matMulTN(sx, g), columnSums(g)]; // (N, in), (in, out), (out)
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/**
 * op(A[g])·op(B[g]) for 3-D A, B. On wasm each slice runs on XNNPACK (the stock kernel would run
 * a batched or flagged product in a scalar loop); elsewhere tfjs's matMul takes the flags natively.
 */
function bmm(a: tf.Tensor3D, b: tf.Tensor3D, transposeA: boolean, transposeB: boolean): tf.Tensor3D {
  return groupedBatchMatMul(a, b, { transposeA, transposeB });
}

type Bmm = (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/**
 * C = op(A)·op(B) per slice with the gradients of each flag combination written as flagged
 * products of the saved operands (no explicit transposes here): for C = A·Bᵀ, dA = dC·B and
 * dB = dCᵀ·A; for C = Aᵀ·B, dA = B·dCᵀ and dB = A·dC; for C = Aᵀ·Bᵀ, dA = Bᵀ·dCᵀ, dB = dCᵀ·Aᵀ.
 */
function makeBatchMatMulFast(tA: boolean, tB: boolean): Bmm {
  return customOp((save, a: tf.Tensor3D, b: tf.Tensor3D) => {
    save([a, b]);
    return {
      value: bmm(a, b, tA, tB), // (G, M, N)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
        const g = dy as tf.Tensor3D; // (G, M, N)
        if (!tA && !tB) return [bmm(g, sb, false, true), bmm(sa, g, true, false)]; // (G, M, K), (G, K, N)
        if (!tA && tB) return [bmm(g, sb, false, false), bmm(g, sa, true, false)]; // (G, M, K), (G, N, K)
        if (tA && !tB) return [bmm(sb, g, false, true), bmm(sa, g, false, false)]; // (G, K, M), (G, K, N)
        return [bmm(sb, g, true, true), bmm(g, sa, true, true)]; // (G, K, M), (G, N, K)
      },
    };
  }) as Bmm;
}

const batchMatMulFast: readonly Bmm[] = [
  makeBatchMatMulFast(false, false),
  makeBatchMatMulFast(false, true),
  makeBatchMatMulFast(true, false),
  makeBatchMatMulFast(true, true),
];

/** Batched matrix product over the leading axis. */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return batchMatMulT(a, b, false, false);
}

/** Batched op(A[g])·op(B[g]) over the leading axis, op the transpose when its flag is set. */
export function batchMatMulT(a: tf.Tensor3D, b: tf.Tensor3D, transposeA: boolean, transposeB: boolean): tf.Tensor3D {
  return batchMatMulFast[(transposeA ? 2 : 0) + (transposeB ? 1 : 0)](a, b);
}

/** y = x·W + b, the affine map of every linear layer (Conv1D layout: W is (in, out)). */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  if (bias) return linearBiasFast(x, weight, bias); // (N, out)
  const y = matMul2d(x, weight); // (N, out)
  return bias ? tf.add(y, bias) : y; // (N, out)
}
