import * as tf from '@tensorflow/tfjs-core';
import { transposeLast2 } from '../transpose.js';
import { heapCall, heapKernelsAvailable, heapMatrix, heapProductFits, transposeOnHeap } from './heapKernels.js';
import { heapOffset, isWasmBackend, wasmKernelReady } from './module.js';

/**
 * Batched matMul for the wasm backend that runs every slice at 2-D matMul speed.
 *
 * tfjs-backend-wasm 4.22 sends a BatchMatMul to XNNPACK only when both operands are a single
 * 2-D matrix without transpose flags; anything batched or transposed runs a scalar loop
 * (~1.5-2 GFLOP/s against ~25). This kernel loops over the batch in JS instead: each slice
 * becomes a tensor id registered on the wasm side that points into the operand's memory (no
 * copy), a transposed operand is first transposed slice by slice into a scratch buffer, and the
 * wasm module's own BatchMatMul entry then multiplies the 2-D pair on XNNPACK, writing straight
 * into the output's slice. The ids are released at once, which also frees XNNPACK's packed copy
 * of the right operand (it is cached by id). Where heapKernels.wat loads (attention's per-head
 * products, whatever their sides) slices skip XNNPACK and the transposes for its packed product, which has
 * no such per-call set-up, reads a transposed operand in place and gives the same sums.
 *
 * Operands are described as slices of 3-D tensors: a (Ga, ·, ·) and b (Gb, ·, ·); output slice g
 * (g = o·heads + h, o < outer, h < heads) multiplies a-slice o·aGroup + aStart + h with b-slice
 * o·bGroup + bStart + h. With outer = G, heads = 1, group = 1, start = 0 it is an ordinary batched
 * product; the head-grouped form lets one (B, 3·nh, T, hs) tensor serve as q, k and v.
 */
export const WASM_BATCH_MATMUL = 'TinyGptBatchMatMul';

/** Where slice g of one operand lives: slice index o·group + start + h. */
export interface SliceSelect {
  /** Slices per outer index in the operand (e.g. 3·nh for a fused q|k|v tensor). */
  readonly group: number;
  /** First slice of the selected block within each group. */
  readonly start: number;
}

function num(attrs: tf.NamedAttrMap, key: string): number {
  return attrs[key] as number;
}

function kernelFunc({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  if (!isWasmBackend(backend)) throw new Error(`${WASM_BATCH_MATMUL} runs only on tfjs-backend-wasm 4.x.`);
  const be = backend;
  const w = be.wasm;
  const at = attrs ?? {};
  const a = inputs.a as tf.TensorInfo;
  const b = inputs.b as tf.TensorInfo;
  const tA = at.transposeA === true;
  const tB = at.transposeB === true;
  const [outer, heads] = [num(at, 'outer'), num(at, 'heads')];
  const [aGroup, aStart, bGroup, bStart] = [num(at, 'aGroup'), num(at, 'aStart'), num(at, 'bGroup'), num(at, 'bStart')];
  const tri = (at.tri as number | undefined) ?? 0; // a zero pattern the packed product may skip (XNNPACK computes it all)
  const [ar, ac] = [a.shape[1], a.shape[2]];
  const [br, bc] = [b.shape[1], b.shape[2]];
  const [m, k] = tA ? [ac, ar] : [ar, ac];
  const n = tB ? br : bc;
  const out = be.makeOutput([outer * heads, m, n], 'float32'); // (G, M, N)
  const offset = (t: tf.TensorInfo) => heapOffset(be, t);
  const [aBase, bBase, oBase] = [offset(a), offset(b), offset(out)];
  const outSize = outer * heads * m * n;
  if (outSize === 0 || k === 0) {
    w.HEAPF32.fill(0, oBase >> 2, (oBase >> 2) + outSize); // an empty sum is 0 (XNNPACK rejects k = 0)
    return out;
  }
  const aSize = ar * ac;
  const bSize = br * bc;
  const heap = heapCall(be);
  // Slices whose sides fit heapKernels.wat's packed matmul run there, either operand read
  // transposed in place (~3x faster for attention's 64 × 32 × 64 products than XNNPACK: no
  // operator creation or weight packing per slice, and no transposed copy); others on XNNPACK.
  if (heap !== undefined && heapProductFits(m, n)) {
    // Every slice in one call (matmul_batch loops over them in wasm), each operand's strides as heapMatrix gives them.
    const opA = heapMatrix(aBase + 4 * aStart * aSize, ac, tA);
    const opB = heapMatrix(bBase + 4 * bStart * bSize, bc, tB);
    const pack = heap.pack(k);
    const [aOuter, bOuter, cOuter] = [4 * aGroup * aSize, 4 * bGroup * bSize, 4 * heads * m * n];
    heap.ex.matmul_batch(opA.at, opB.at, oBase, outer, heads, aOuter, 4 * aSize, bOuter, 4 * bSize, cOuter, 4 * m * n, m, k, n, opA.row, opA.col, opB.row, opB.col, 4 * n, pack, tri);
    return out;
  }
  // One allocation for both shape arrays and both transposed scratch slices.
  const scratch = w._malloc(4 * (8 + (tA ? aSize : 0) + (tB ? bSize : 0)));
  const shapes = scratch >> 2;
  const scratchA = shapes + 8;
  const scratchB = scratchA + (tA ? aSize : 0);
  const u32 = w.HEAPU32;
  u32.set([1, m, k, 0, 1, k, n, 0], shapes);
  for (let o = 0; o < outer; o++) {
    for (let h = 0; h < heads; h++) {
      let aPtr = aBase + 4 * (o * aGroup + aStart + h) * aSize;
      let bPtr = bBase + 4 * (o * bGroup + bStart + h) * bSize;
      if (tA) {
        transposeOnHeap(be, heap, aPtr, ar, ac, scratchA << 2);
        aPtr = scratchA << 2;
      }
      if (tB) {
        transposeOnHeap(be, heap, bPtr, br, bc, scratchB << 2);
        bPtr = scratchB << 2;
      }
      const oPtr = oBase + 4 * (o * heads + h) * m * n;
      const aId = be.dataIdNextNumber++;
      const bId = be.dataIdNextNumber++;
      const oId = be.dataIdNextNumber++;
      w._register_tensor(aId, m * k, aPtr);
      w._register_tensor(bId, k * n, bPtr);
      w._register_tensor(oId, m * n, oPtr);
      w._BatchMatMul(aId, scratch, 3, bId, scratch + 16, 3, 0, 0, oId);
      w._dispose_data(aId);
      w._dispose_data(bId);
      w._dispose_data(oId);
    }
  }
  w._free(scratch);
  return out;
}

/** True when the current backend is wasm and exposes what the kernel needs. */
export function wasmBatchMatMulAvailable(): boolean {
  return wasmKernelReady(WASM_BATCH_MATMUL, kernelFunc as tf.KernelFunc, isWasmBackend);
}

/** Options of {@link groupedBatchMatMul}: transposes and head-grouped slice selection. */
export interface GroupedBatchMatMulOptions {
  /** Multiply by the transpose of each a-slice. */
  readonly transposeA?: boolean;
  /** Multiply by the transpose of each b-slice. */
  readonly transposeB?: boolean;
  /** Slices per outer index in the output; default 1 (plain batching). */
  readonly heads?: number;
  /** Selection of a's slices; default every slice in order. */
  readonly a?: SliceSelect;
  /** Selection of b's slices; default every slice in order. */
  readonly b?: SliceSelect;
  /**
   * Causal attention's zeros, which the packed product skips (the same values, less work):
   * 'lowerA', every op(a) slice is zero above its diagonal (P, dS); 'upperA', below it (Pᵀ, dSᵀ);
   * 'lowerOut', only each output slice's lower triangle is read (scores, dP), and tiles wholly
   * above it may be left 0. Default 'none'.
   */
  readonly triangle?: Triangle;
}

/** The zero pattern GroupedBatchMatMulOptions.triangle names. */
export type Triangle = 'none' | 'lowerA' | 'upperA' | 'lowerOut';

/** heapKernels.wat matmul's tri code of each pattern. */
export const TRI: Readonly<Record<Triangle, number>> = { none: 0, lowerA: 1, upperA: 2, lowerOut: 3 };

function checkOperands(a: tf.Tensor3D, b: tf.Tensor3D, o: Required<GroupedBatchMatMulOptions>): number {
  const outer = a.shape[0] / o.a.group;
  const inner = (t: tf.Tensor3D, tr: boolean) => (tr ? t.shape[1] : t.shape[2]);
  const ok =
    a.rank === 3 &&
    b.rank === 3 &&
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    Number.isInteger(outer) &&
    b.shape[0] === outer * o.b.group &&
    o.a.start + o.heads <= o.a.group &&
    o.b.start + o.heads <= o.b.group &&
    inner(a, o.transposeA) === (o.transposeB ? b.shape[2] : b.shape[1]);
  if (!ok) {
    throw new Error(
      `groupedBatchMatMul: operands a [${a.shape}] (${a.dtype}) and b [${b.shape}] (${b.dtype}) do not fit ` +
        `heads ${o.heads}, a group ${o.a.group}/start ${o.a.start}, b group ${o.b.group}/start ${o.b.start}, ` +
        `transposeA ${o.transposeA}, transposeB ${o.transposeB}: pass float32 3-D slices with matching inner sizes.`,
    );
  }
  return outer;
}

/** The selected slices of x as (outer·heads, ·, ·): every slice when the selection is the whole group. */
function selectSlices(x: tf.Tensor3D, outer: number, heads: number, sel: SliceSelect): tf.Tensor3D {
  if (sel.group === heads) return x;
  const [, r, c] = x.shape;
  const grouped = tf.reshape(x, [outer, sel.group, r, c]); // (outer, group, r, c)
  return tf.reshape(tf.slice(grouped, [0, sel.start, 0, 0], [outer, heads, r, c]), [outer * heads, r, c]); // (outer·heads, r, c)
}

/** Whether the kernel's slices will run on heapKernels.wat's packed product (which reads transposed operands in place). */
function tiledFits(a: tf.Tensor3D, b: tf.Tensor3D, o: Required<GroupedBatchMatMulOptions>): boolean {
  const m = o.transposeA ? a.shape[2] : a.shape[1];
  const n = o.transposeB ? b.shape[1] : b.shape[2];
  return heapProductFits(m, n) && heapKernelsAvailable();
}

/**
 * out[o·heads + h] = op(a[o·aGroup + aStart + h]) · op(b[o·bGroup + bStart + h]), float32 3-D a and b.
 * On wasm every slice runs on XNNPACK straight from the operands' memory; on other backends the
 * slices are cut out and multiplied by tf.matMul with its transpose flags. Not differentiable by
 * itself: callers wrap it in a custom gradient.
 */
export function groupedBatchMatMul(a: tf.Tensor3D, b: tf.Tensor3D, options: GroupedBatchMatMulOptions = {}): tf.Tensor3D {
  const heads = options.heads ?? 1;
  const o: Required<GroupedBatchMatMulOptions> = {
    transposeA: options.transposeA === true,
    transposeB: options.transposeB === true,
    heads,
    a: options.a ?? { group: heads, start: 0 },
    b: options.b ?? { group: heads, start: 0 },
    triangle: options.triangle ?? 'none',
  };
  const outer = checkOperands(a, b, o);
  if (wasmBatchMatMulAvailable()) {
    return tf.tidy(() => {
      // On the packed path transposed operands are read in place. Off it, an operand used whole is
      // transposed by one SIMD kernel (ops/transpose.ts, several times faster than the kernel's
      // per-slice JS copy), and a selected block of slices is transposed slice by slice.
      const whole = (sel: SliceSelect, t: boolean) => t && sel.group === heads && sel.start === 0 && !tiledFits(a, b, o);
      const wa = whole(o.a, o.transposeA);
      const wb = whole(o.b, o.transposeB);
      const attrs = {
        transposeA: o.transposeA && !wa,
        transposeB: o.transposeB && !wb,
        outer,
        heads,
        aGroup: o.a.group,
        aStart: o.a.start,
        bGroup: o.b.group,
        bStart: o.b.start,
        tri: TRI[o.triangle],
      };
      const inputs = { a: wa ? transposeLast2(a) : a, b: wb ? transposeLast2(b) : b };
      return tf.engine().runKernel(WASM_BATCH_MATMUL, inputs, attrs) as tf.Tensor3D; // (outer·heads, M, N)
    });
  }
  return tf.tidy(() =>
    tf.matMul(selectSlices(a, outer, heads, o.a), selectSlices(b, outer, heads, o.b), o.transposeA, o.transposeB),
  ); // (outer·heads, M, N)
}
