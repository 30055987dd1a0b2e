import { firstKey, type AttendArgs, type HeadShape } from './attention.js';
import { transposeInto } from '../util/transpose.js';
import type { MatMulEngine } from '../ops/engine.js';

/**
 * attendRows's attention as matrix products on the engine, for XNNPACK: a few large products
 * cost less than thousands of scalar JS multiply-adds. Both functions write the heads of `rows`
 * queries (at positions start..) side by side into out (rows, nh·hd), as attendRows does.
 */

/** Arena buffers of both functions, for `rows` queries against blockSize keys. */
export interface ProductScratch {
  /** (rows, hd) one head's scaled queries, or (hd, nh) every head's query as a column. */
  readonly q: number;
  /** (hd, blockSize): one head's keys, transposed. */
  readonly kt: number;
  /** (blockSize, hd): one head's values. */
  readonly v: number;
  /** (rows, blockSize) or (nKv·blockSize, nh): scores, then weights. */
  readonly s: number;
  /** (blockSize, nh): every head's weights as a column. */
  readonly w: number;
  /** (rows, hd) or (nKv·hd, nh): output. */
  readonly o: number;
}

/** Lays a {@link ProductScratch} out from arena index `at`; `end` is the first index after it. */
export function productScratch(at: number, rows: number, blockSize: number, shape: HeadShape): { scratch: ProductScratch; end: number } {
  const { nHead: nh, nKvHead: nkv, headDim: hd } = shape;
  const sizes = [Math.max(rows, nh) * hd, hd * blockSize, blockSize * hd, Math.max(rows, nkv * nh) * blockSize, blockSize * nh, Math.max(rows, nkv * nh) * hd];
  const [q, kt, v, s, w, o] = sizes.map((_, i) => at + sizes.slice(0, i).reduce((x, y) => x + y, 0));
  return { scratch: { q, kt, v, s, w, o }, end: o + sizes[5] };
}

/** Softmax of the n scores a[from + j·stride] over first ≤ j ≤ last, in place; the others become 0. */
function maskedSoftmax(a: Float32Array, from: number, stride: number, first: number, last: number, n: number): void {
  let max = -Infinity;
  for (let j = first; j <= last; j++) max = Math.max(max, a[from + j * stride]);
  let sum = 0;
  for (let j = first; j <= last; j++) sum += a[from + j * stride] = Math.exp(a[from + j * stride] - max);
  for (let j = 0; j < n; j++) a[from + j * stride] = j < first || j > last ? 0 : a[from + j * stride] / sum;
}

/**
 * A block of T new queries, per query head: S = Q·Kᵀ (T, P) over all P = start + T keys, a
 * masked softmax per row (row r sees keys up to start + r, within the window), then O = A·V
 * (T, hd). For reading a prompt or a shifted window.
 */
export function attendBlock(engine: MatMulEngine, { cache, layer, window, qkv, out, rows, start }: AttendArgs, sc: ProductScratch): void {
  const { nHead: nh, headDim: hd, scale } = cache.shape;
  const bs = cache.blockSize;
  const p = start + rows;
  for (let h = 0; h < nh; h++) {
    let a = engine.heap();
    for (let r = 0; r < rows; r++) for (let d = 0; d < hd; d++) a[sc.q + r * hd + d] = a[qkv + r * cache.qkvWidth + h * hd + d] * scale;
    const g = cache.group(h);
    const [k, vt] = [cache.k(layer, g), cache.vt(layer, g)];
    transposeInto(a, k, p, hd, a, sc.kt); // keys (P, hd) → (hd, P)
    for (let d = 0; d < hd; d++) for (let j = 0; j < p; j++) a[sc.v + j * hd + d] = a[vt + d * bs + j];
    engine.product(sc.q, rows, hd, sc.kt, p, sc.s); // (T, hd)·(hd, P) = (T, P)
    a = engine.heap();
    for (let r = 0; r < rows; r++) maskedSoftmax(a, sc.s + r * p, 1, firstKey(start + r, window), start + r, p);
    engine.product(sc.s, rows, p, sc.v, hd, sc.o); // (T, P)·(P, hd) = (T, hd)
    a = engine.heap();
    for (let r = 0; r < rows; r++) a.copyWithin(out + (r * nh + h) * hd, sc.o + r * hd, sc.o + (r + 1) * hd);
  }
}

/**
 * One query at a time, every head in two products: the layer's keys as one (nKv·blockSize, hd)
 * matrix times the queries as columns (hd, nh) gives head h's scores in column h, rows of its
 * key/value head (the other entries pair a query with another head's keys, unused); the
 * transposed values (nKv·hd, blockSize) times the weights as columns (blockSize, nh) gives head h's
 * output in column h. That is nKv times the useful arithmetic, but two engine calls instead of 2·nh.
 */
export function attendStacked(engine: MatMulEngine, { cache, layer, window, qkv, out, rows, start }: AttendArgs, sc: ProductScratch): void {
  const { nHead: nh, nKvHead: nkv, headDim: hd, scale } = cache.shape;
  const bs = cache.blockSize;
  for (let r = 0; r < rows; r++) {
    const p = start + r;
    let a = engine.heap();
    for (let h = 0; h < nh; h++) for (let d = 0; d < hd; d++) a[sc.q + d * nh + h] = a[qkv + r * cache.qkvWidth + h * hd + d] * scale;
    engine.product(cache.k(layer, 0), nkv * bs, hd, sc.q, nh, sc.s); // (nKv·bs, hd)·(hd, nh)
    a = engine.heap();
    for (let h = 0; h < nh; h++) {
      const col = sc.s + cache.group(h) * bs * nh + h; // head h's scores: its group's rows, column h
      maskedSoftmax(a, col, nh, firstKey(p, window), p, bs);
      for (let j = 0; j < bs; j++) a[sc.w + j * nh + h] = a[col + j * nh];
    }
    engine.product(cache.vt(layer, 0), nkv * hd, bs, sc.w, nh, sc.o); // (nKv·hd, bs)·(bs, nh)
    a = engine.heap();
    for (let h = 0; h < nh; h++) {
      const from = sc.o + cache.group(h) * hd * nh + h;
      for (let d = 0; d < hd; d++) a[out + (r * nh + h) * hd + d] = a[from + d * nh];
    }
  }
}
