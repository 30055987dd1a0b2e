import type { ArenaKVCache } from './attention.js';
import type { MatMulEngine } from './engine.js';

/**
 * attendRows's attention as matrix products on the engine, for XNNPACK: a few large products
 * cost less than thousands of scalar JS multiply-adds. Both functions write the heads of `rows`
 * queries (at positions start..) side by side into out (rows, C), as attendRows does.
 */

/** Arena buffers of both functions, for `rows` queries against blockSize keys. */
export interface ProductScratch {
  /** (rows, hs) one head's scaled queries, or (hs, nh) every head's query as a column. */
  readonly q: number;
  /** (hs, blockSize): one head's keys, transposed. */
  readonly kt: number;
  /** (blockSize, hs): one head's values. */
  readonly v: number;
  /** (rows, blockSize) or (nh·blockSize, nh): scores, then weights. */
  readonly s: number;
  /** (blockSize, nh): every head's weights as a column. */
  readonly w: number;
  /** (rows, hs) or (nh·hs, nh): output. */
  readonly o: number;
}

/** Lays a {@link ProductScratch} out from arena index `at`; `end` is the first index after it. */
export function productScratch(at: number, rows: number, blockSize: number, nh: number, hs: number): { scratch: ProductScratch; end: number } {
  const big = Math.max(rows, nh);
  const sizes = [big * hs, hs * blockSize, blockSize * hs, big * blockSize * nh, blockSize * nh, big * hs * nh];
  const starts = sizes.map((_, i) => at + sizes.slice(0, i).reduce((x, y) => x + y, 0));
  const [q, kt, v, s, w, o] = starts;
  return { scratch: { q, kt, v, s, w, o }, end: o + sizes[5] };
}

/** Softmax of n scores read at a[from + j·stride], written back; entries past `last` become 0. */
function causalSoftmax(a: Float32Array, from: number, stride: number, last: number, n: number): void {
  let max = -Infinity;
  for (let j = 0; j <= last; j++) max = Math.max(max, a[from + j * stride]);
  let sum = 0;
  for (let j = 0; j <= last; j++) sum += a[from + j * stride] = Math.exp(a[from + j * stride] - max);
  for (let j = 0; j <= last; j++) a[from + j * stride] /= sum;
  for (let j = last + 1; j < n; j++) a[from + j * stride] = 0;
}

/**
 * A block of T new queries, per head: S = Q·Kᵀ (T, P) over all P = start + T keys, a causal
 * softmax per row (row r sees keys j ≤ start + r), then O = A·V (T, hs). For reading a prompt or a
 * shifted window.
 */
export function attendBlock(engine: MatMulEngine, cache: ArenaKVCache, layer: number, qkv: number, out: number, rows: number, start: number, sc: ProductScratch): void {
  const { nHead: nh, headSize: hs, blockSize: bs } = cache;
  const c = nh * hs;
  const p = start + rows;
  const scale = 1 / Math.sqrt(hs);
  for (let h = 0; h < nh; h++) {
    let a = engine.heap();
    for (let r = 0; r < rows; r++) for (let d = 0; d < hs; d++) a[sc.q + r * hs + d] = a[qkv + r * 3 * c + h * hs + d] * scale;
    const [k, vt] = [cache.k(layer, h), cache.vt(layer, h)];
    for (let j = 0; j < p; j++) for (let d = 0; d < hs; d++) a[sc.kt + d * p + j] = a[k + j * hs + d];
    for (let d = 0; d < hs; d++) for (let j = 0; j < p; j++) a[sc.v + j * hs + d] = a[vt + d * bs + j];
    engine.product(sc.q, rows, hs, sc.kt, p, sc.s); // (T, hs)·(hs, P) = (T, P)
    a = engine.heap();
    for (let r = 0; r < rows; r++) causalSoftmax(a, sc.s + r * p, 1, start + r, p);
    engine.product(sc.s, rows, p, sc.v, hs, sc.o); // (T, P)·(P, hs) = (T, hs)
    a = engine.heap();
    for (let r = 0; r < rows; r++) a.copyWithin(out + r * c + h * hs, sc.o + r * hs, sc.o + (r + 1) * hs);
  }
}

/**
 * One query at a time, every head in two products: the layer's keys as one (nh·blockSize, hs)
 * matrix times the queries as columns (hs, nh) gives each head's scores in its own column (the
 * other columns are cross-head products, unused), and the transposed values (nh·hs, blockSize)
 * times the weights as columns (blockSize, nh) gives each head's output in its column. That is
 * nh times the useful arithmetic, but two engine calls instead of 2·nh, or of scalar loops.
 */
export function attendStacked(engine: MatMulEngine, cache: ArenaKVCache, layer: number, qkv: number, out: number, rows: number, start: number, sc: ProductScratch): void {
  const { nHead: nh, headSize: hs, blockSize: bs } = cache;
  const c = nh * hs;
  const scale = 1 / Math.sqrt(hs);
  for (let r = 0; r < rows; r++) {
    let a = engine.heap();
    for (let h = 0; h < nh; h++) for (let d = 0; d < hs; d++) a[sc.q + d * nh + h] = a[qkv + r * 3 * c + h * hs + d] * scale;
    engine.product(cache.k(layer, 0), nh * bs, hs, sc.q, nh, sc.s); // (nh·bs, hs)·(hs, nh)
    a = engine.heap();
    for (let h = 0; h < nh; h++) {
      const col = sc.s + h * bs * nh + h; // head h's scores: rows h·bs.., column h
      causalSoftmax(a, col, nh, start + r, bs);
      for (let j = 0; j < bs; j++) a[sc.w + j * nh + h] = a[col + j * nh];
    }
    engine.product(cache.vt(layer, 0), nh * hs, bs, sc.w, nh, sc.o); // (nh·hs, bs)·(bs, nh)
    a = engine.heap();
    for (let h = 0; h < nh; h++) for (let d = 0; d < hs; d++) a[out + r * c + h * hs + d] = a[sc.o + (h * hs + d) * nh + h];
  }
}
