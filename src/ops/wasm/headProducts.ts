import * as tf from '@tensorflow/tfjs-core';
import { swapAxes12 } from '../transpose.js';
import { groupedBatchMatMul, type SliceSelect, type Triangle, TRI } from './batchMatMul.js';
import { heapCall, heapKernelsAvailable } from './heapKernels.js';
import { heapOffset, isWasmBackend, wasmKernelReady } from './module.js';

/**
 * Attention's per-head products with q, k, v and the heads' outputs read and written where the
 * projections keep them, so that no head split, merge or concatenation is ever copied.
 *
 * An operand is either slot-major, 3-D (outer·group, R, C), or token-major, 4-D (outer, R, group, C):
 * a projection's (B·T, group·C) output reshaped, slot s of row r at r·group·C + s·C. Its slices
 * are read in place (a row stride of group·C). One call fills one output of `group` slots per
 * outer index from several products, each writing `heads` consecutive slots; the output is
 * slot-major (outer·group, M, N) or token-major (outer, M, group, N), so dq, dk and dv land side
 * by side in the layout of the qkv projection they are the gradient of. On wasm one kernel runs
 * every product through heapKernels.wat's matmul_batch; elsewhere they are composed from
 * groupedBatchMatMul, transposes and a concat. Not differentiable by itself.
 */
export const WASM_HEAD_PRODUCTS = 'TinyGptHeadProducts';

/** One product: out slots [start, start + heads) of every outer index = op(a-slices) · op(b-slices). */
export interface HeadProduct {
  /** Left operand (3-D slot-major or 4-D token-major) and its slices. */
  readonly a: tf.Tensor3D | tf.Tensor4D;
  readonly aSlices: SliceSelect;
  /** Right operand and its slices. */
  readonly b: tf.Tensor3D | tf.Tensor4D;
  readonly bSlices: SliceSelect;
  /** Multiply by the transpose of each a-slice / b-slice. */
  readonly transposeA?: boolean;
  readonly transposeB?: boolean;
  /** First output slot this product writes. */
  readonly start: number;
  /** Zeros the packed product may skip (groupedBatchMatMul's triangle). */
  readonly triangle?: Triangle;
}

/** The output: slots per outer index, and whether it is token-major (outer, M, group, N). */
export interface HeadOutput {
  readonly outer: number;
  readonly group: number;
  readonly heads: number;
  readonly tokenMajor: boolean;
}

/** Numbers per product in the kernel's program attribute. */
const STRIDE = 10;

/** Byte strides of an operand's slices: between outer indices, between slots, between rows. */
function strides(shape: readonly number[], group: number): { outer: number; head: number; row: number; rows: number; cols: number } {
  if (shape.length === 4) {
    const [, r, g, c] = shape;
    return { outer: 4 * r * g * c, head: 4 * c, row: 4 * g * c, rows: r, cols: c };
  }
  const [, r, c] = shape;
  return { outer: 4 * group * r * c, head: 4 * r * c, row: 4 * c, rows: r, cols: c };
}

function kernelFunc({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  const h = heapCall(backend);
  if (h === undefined || !isWasmBackend(backend)) throw new Error(`${WASM_HEAD_PRODUCTS} runs only on tfjs-backend-wasm 4.x with the heap kernels.`);
  const at = attrs ?? {};
  const [outer, group, heads, m, n] = ['outer', 'group', 'heads', 'm', 'n'].map((key) => at[key] as number);
  const tokenMajor = at.tokenMajor === true;
  const program = at.program as number[];
  const out = h.be.makeOutput(tokenMajor ? [outer, m, group, n] : [outer * group, m, n], 'float32');
  const o = tokenMajor ? { outer: 4 * m * group * n, head: 4 * n, row: 4 * group * n } : { outer: 4 * group * m * n, head: 4 * m * n, row: 4 * n };
  const cBase = heapOffset(backend, out);
  for (let p = 0; p < program.length; p += STRIDE) {
    const [ai, bi, aGroup, aStart, bGroup, bStart, tA, tB, start, tri] = program.slice(p, p + STRIDE);
    const [a, b] = [inputs[`i${ai}`], inputs[`i${bi}`]] as tf.TensorInfo[];
    const sa = strides(a.shape, aGroup);
    const sb = strides(b.shape, bGroup);
    const k = tA ? sa.rows : sa.cols;
    // op(X)(i, kk) at base + i·row + kk·4, or transposed, base + i·4 + kk·row.
    const [aRow, aCol] = tA ? [4, sa.row] : [sa.row, 4];
    const [bRow, bCol] = tB ? [4, sb.row] : [sb.row, 4];
    const pack = h.pack(k); // before reading offsets: an allocation may grow the heap
    h.ex.matmul_batch(
      heapOffset(backend, a) + aStart * sa.head,
      heapOffset(backend, b) + bStart * sb.head,
      cBase + start * o.head,
      outer,
      heads,
      sa.outer,
      sa.head,
      sb.outer,
      sb.head,
      o.outer,
      o.head,
      m,
      k,
      n,
      aRow,
      aCol,
      bRow,
      bCol,
      o.row,
      pack,
      tri,
    );
  }
  return out;
}

/** (outer·group, R, C) slot-major from a token-major (outer, R, group, C) operand; a 3-D one as it is. */
function slotMajor(x: tf.Tensor3D | tf.Tensor4D): tf.Tensor3D {
  if (x.rank === 3) return x as tf.Tensor3D;
  const [o, r, g, c] = (x as tf.Tensor4D).shape;
  return tf.reshape(swapAxes12(x as tf.Tensor4D), [o * g, r, c]); // (outer·group, R, C)
}

/** The same products from groupedBatchMatMul, transposes and one concat (off the heap kernels). */
function composed(products: readonly HeadProduct[], out: HeadOutput): tf.Tensor {
  return tf.tidy(() => {
    const bySlot = [...products].sort((p, q) => p.start - q.start);
    const parts = bySlot.map((p) => {
      const y = groupedBatchMatMul(slotMajor(p.a), slotMajor(p.b), {
        heads: out.heads,
        a: p.aSlices,
        b: p.bSlices,
        transposeA: p.transposeA,
        transposeB: p.transposeB,
        triangle: p.triangle,
      }); // (outer·heads, M, N)
      const [, m, n] = y.shape;
      return tf.reshape(y, [out.outer, out.heads, m, n]); // (outer, heads, M, N)
    });
    const all = (parts.length === 1 ? parts[0] : tf.concat(parts, 1)) as tf.Tensor4D; // (outer, group, M, N)
    const [, g, m, n] = all.shape;
    return out.tokenMajor ? swapAxes12(all) : tf.reshape(all, [out.outer * g, m, n]); // (outer, M, group, N) or (outer·group, M, N)
  });
}

/**
 * One output filled by `products` (their slots must tile [0, group) exactly, each `heads` wide,
 * all with the same M and N). Token-major output: (outer, M, group, N); else (outer·group, M, N).
 */
export function headProducts(products: readonly HeadProduct[], out: HeadOutput): tf.Tensor {
  const dims = products.map((p) => {
    const sa = strides(p.a.shape, p.aSlices.group);
    const sb = strides(p.b.shape, p.bSlices.group);
    return { m: p.transposeA ? sa.cols : sa.rows, k: p.transposeA ? sa.rows : sa.cols, kb: p.transposeB ? sb.cols : sb.rows, n: p.transposeB ? sb.rows : sb.cols };
  });
  const covered = products.map((p) => p.start).sort((x, y) => x - y);
  // A 3-D operand holds outer·group slices, a 4-D one outer rows of group slots.
  const fits = (x: tf.Tensor, sel: SliceSelect) =>
    sel.start + out.heads <= sel.group && (x.rank === 4 ? x.shape[0] === out.outer && x.shape[2] === sel.group : x.shape[0] === out.outer * sel.group);
  const ok =
    products.length > 0 &&
    products.every((p) => fits(p.a, p.aSlices) && fits(p.b, p.bSlices)) &&
    products.every((p) => p.a.dtype === 'float32' && p.b.dtype === 'float32') &&
    dims.every((d) => d.k === d.kb && d.m === dims[0].m && d.n === dims[0].n) &&
    covered.every((s, i) => s === i * out.heads) &&
    covered.length * out.heads === out.group;
  if (!ok) {
    throw new Error(
      `headProducts: ${products.length} product(s) of shapes ${products.map((p) => `[${p.a.shape}]·[${p.b.shape}]`).join(', ')} ` +
        `must share M and N, have matching inner sizes and fill the ${out.group} output slots ${out.heads} at a time.`,
    );
  }
  if (!heapKernelsAvailable() || !wasmKernelReady(WASM_HEAD_PRODUCTS, kernelFunc as tf.KernelFunc, isWasmBackend)) return composed(products, out);
  const inputs: tf.NamedTensorMap = {};
  const index = new Map<tf.Tensor, number>();
  const slot = (t: tf.Tensor) => {
    if (!index.has(t)) {
      index.set(t, index.size);
      inputs[`i${index.size - 1}`] = t;
    }
    return index.get(t) as number;
  };
  const program = products.flatMap((p) => [
    slot(p.a),
    slot(p.b),
    p.aSlices.group,
    p.aSlices.start,
    p.bSlices.group,
    p.bSlices.start,
    p.transposeA ? 1 : 0,
    p.transposeB ? 1 : 0,
    p.start,
    TRI[p.triangle ?? 'none'],
  ]);
  const attrs = { ...out, m: dims[0].m, n: dims[0].n, program };
  return tf.engine().runKernel(WASM_HEAD_PRODUCTS, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
