import type { RowKVCache } from './attention.js';
import type { MatMulEngine } from './engine.js';

/** Arena buffers for {@link attendBlock}, each sized for `rows` queries against blockSize keys. */
export interface BlockScratch {
  /** (rows, hs): one head's queries, scaled by 1/√hs. */
  readonly q: number;
  /** (hs, blockSize): one head's keys, transposed. */
  readonly kt: number;
  /** (blockSize, hs): one head's values. */
  readonly v: number;
  /** (rows, blockSize): scores, then attention weights. */
  readonly s: number;
  /** (rows, hs): one head's output. */
  readonly o: number;
}

/** Floats {@link BlockScratch} needs, laid out from `at`. */
export function blockScratch(at: number, rows: number, blockSize: number, hs: number): { scratch: BlockScratch; end: number } {
  const sizes = [rows * hs, hs * blockSize, blockSize * hs, rows * blockSize, rows * hs];
  const [q, kt, v, s, o] = sizes.map((_, i) => at + sizes.slice(0, i).reduce((x, y) => x + y, 0));
  return { scratch: { q, kt, v, s, o }, end: o + rows * hs };
}

/**
 * The same attention as attendRows for a block of T new queries at once, with both products on
 * the engine: per head, S = Q·Kᵀ (T, P) over all P = start + T keys, a causal softmax per row
 * (row r sees keys j ≤ start + r), then O = A·V (T, hs). Reading a prompt or a shifted window
 * this way is ~10x faster on XNNPACK than row by row.
 */
export function attendBlock(
  engine: MatMulEngine,
  cache: RowKVCache,
  layer: number,
  qkv: number,
  out: number,
  rows: number,
  start: number,
  sc: BlockScratch,
): void {
  const { nHead: nh, headSize: hs, blockSize: bs, kt, v } = cache;
  const c = nh * hs;
  const p = start + rows;
  const scale = 1 / Math.sqrt(hs);
  for (let h = 0; h < nh; h++) {
    let a = engine.heap();
    for (let r = 0; r < rows; r++) {
      const qi = qkv + r * 3 * c + h * hs;
      for (let d = 0; d < hs; d++) a[sc.q + r * hs + d] = a[qi + d] * scale;
    }
    const base = cache.base(layer, h);
    for (let d = 0; d < hs; d++) a.set(kt.subarray(base + d * bs, base + d * bs + p), sc.kt + d * p);
    a.set(v.subarray(base, base + p * hs), sc.v);
    engine.product(sc.q, rows, hs, sc.kt, p, sc.s); // (T, hs)·(hs, P) = (T, P)
    a = engine.heap();
    for (let r = 0; r < rows; r++) {
      const row = sc.s + r * p;
      const last = start + r; // causal: keys after the query's own position get weight 0
      let max = -Infinity;
      for (let j = 0; j <= last; j++) max = Math.max(max, a[row + j]);
      let sum = 0;
      for (let j = 0; j <= last; j++) sum += a[row + j] = Math.exp(a[row + j] - max);
      for (let j = 0; j <= last; j++) a[row + j] /= sum;
      a.fill(0, row + last + 1, row + p);
    }
    engine.product(sc.s, rows, p, sc.v, hs, sc.o); // (T, P)·(P, hs) = (T, hs)
    a = engine.heap();
    for (let r = 0; r < rows; r++) a.copyWithin(out + r * c + h * hs, sc.o + r * hs, sc.o + (r + 1) * hs);
  }
}
