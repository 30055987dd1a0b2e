/**
 * Causal attention of new rows against a row-major KV cache, for the tensor-free decoder.
 * With q, k, v the slices of GPT-2's fused projection qkv = x·W_attn (q | k | v, each split into
 * heads of hs columns), head h of the query at position p is
 *   out_h = Σ_{j ≤ p} α_j v_j,  α = softmax_j(q·k_j / √hs)   (Vaswani et al., eq. 1),
 * over the cached positions j < S and the new ones S..p.
 */

/**
 * Keys and values of every position read so far: keys transposed, (nLayer, nh, hs, blockSize),
 * so that one query's scores accumulate along contiguous rows; values (nLayer, nh, blockSize, hs).
 */
export class RowKVCache {
  readonly kt: Float32Array;
  readonly v: Float32Array;
  /** Positions held (every layer holds the same ones after a step). */
  length = 0;

  constructor(
    readonly nLayer: number,
    readonly nHead: number,
    readonly blockSize: number,
    readonly headSize: number,
  ) {
    const size = nLayer * nHead * blockSize * headSize;
    this.kt = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** Index of (layer, head, 0, 0) in kt and in v. */
  base(layer: number, head: number): number {
    return (layer * this.nHead + head) * this.blockSize * this.headSize;
  }
}

/**
 * Copies the k and v columns of `rows` rows of qkv (rows, 3C) into the cache at positions
 * start.., for one layer.
 */
export function storeKV(cache: RowKVCache, layer: number, a: Float32Array, qkv: number, rows: number, start: number): void {
  const { nHead: nh, headSize: hs } = cache;
  const c = nh * hs;
  for (let r = 0; r < rows; r++) {
    const row = qkv + r * 3 * c;
    for (let h = 0; h < nh; h++) {
      const base = cache.base(layer, h);
      const [p, bs, k] = [start + r, cache.blockSize, row + c + h * hs];
      for (let d = 0; d < hs; d++) cache.kt[base + d * bs + p] = a[k + d];
      cache.v.set(a.subarray(row + 2 * c + h * hs, row + 2 * c + (h + 1) * hs), base + p * hs);
    }
  }
}

/**
 * Writes the heads of `rows` new queries (at positions start..) side by side into out (rows, C):
 * the concatenation that W^O projects. Plain loops, the fastest way for a handful of rows.
 * `scores` is scratch of at least blockSize doubles.
 */
export function attendRows(
  cache: RowKVCache,
  layer: number,
  a: Float32Array,
  qkv: number,
  out: number,
  rows: number,
  start: number,
  scores: Float64Array,
): void {
  const { nHead: nh, headSize: hs, blockSize: bs, kt, v } = cache;
  const c = nh * hs;
  const scale = 1 / Math.sqrt(hs);
  for (let r = 0; r < rows; r++) {
    const p = start + r; // keys 0..p are visible (causal)
    for (let h = 0; h < nh; h++) {
      const q = qkv + r * 3 * c + h * hs;
      const base = cache.base(layer, h);
      scores.fill(0, 0, p + 1);
      for (let d = 0; d < hs; d++) {
        const qd = a[q + d] * scale;
        const row = base + d * bs;
        for (let j = 0; j <= p; j++) scores[j] += qd * kt[row + j];
      }
      let max = -Infinity;
      for (let j = 0; j <= p; j++) max = Math.max(max, scores[j]);
      let sum = 0;
      for (let j = 0; j <= p; j++) sum += scores[j] = Math.exp(scores[j] - max);
      const o = out + r * c + h * hs;
      for (let d = 0; d < hs; d++) {
        let acc = 0;
        for (let j = 0, vj = base + d; j <= p; j++, vj += hs) acc += scores[j] * v[vj];
        a[o + d] = acc / sum;
      }
    }
  }
}
