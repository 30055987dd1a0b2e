/**
 * Causal attention of new rows against a KV cache in the decoder's arena. Each row of qkv holds
 * q (nh·hd) | k (nKv·hd) | v (nKv·hd), split into heads of hd columns (GPT-2's fused c_attn has
 * this layout with nKv = nh). Query head h reads key/value head ⌊h / (nh / nKv)⌋ (grouped-query
 * attention; nKv = nh is plain multi-head). Head h of the query at position p is
 *   out_h = Σ_j α_j v_j,  α = softmax_j(s·q·k_j), s = 1/√hd by default   (Vaswani et al., eq. 1)
 * over keys j ≤ p, or p − w < j ≤ p in a layer with a sliding window of w keys.
 */

/** Head counts and sizes of the attention layers. */
export interface HeadShape {
  /** Query heads nh. */
  readonly nHead: number;
  /** Key/value heads nKv, dividing nh. */
  readonly nKvHead: number;
  /** Width hd of every head. */
  readonly headDim: number;
  /** Multiplier of q·k (1/√hd unless the model says otherwise). */
  readonly scale: number;
}

/** The first key a query at position p sees: 0, or p − w + 1 with a window of w keys. */
export function firstKey(p: number, window: number): number {
  return window > 0 ? Math.max(0, p - window + 1) : 0;
}

/**
 * Keys and values of every position read so far, as two regions of the arena: keys
 * (nLayer, nKv, blockSize, hd) and values transposed, (nLayer, nKv, hd, blockSize). Both layouts
 * make one layer's heads a single matrix (nKv·blockSize, hd) or (nKv·hd, blockSize) for the engine.
 */
export class ArenaKVCache {
  /** Positions held (every layer holds the same ones after a step). */
  length = 0;
  /** Floats in one row of qkv: (nh + 2·nKv)·hd. */
  readonly qkvWidth: number;

  constructor(
    readonly nLayer: number,
    readonly shape: HeadShape,
    readonly blockSize: number,
    /** Arena index of the first float; the cache spans {@link floats} of them. */
    readonly at: number,
  ) {
    this.qkvWidth = (shape.nHead + 2 * shape.nKvHead) * shape.headDim;
  }

  /** Floats a cache of these sizes occupies. */
  static floats(nLayer: number, shape: HeadShape, blockSize: number): number {
    return 2 * nLayer * shape.nKvHead * blockSize * shape.headDim;
  }

  /** Arena index of key/value head g's keys (blockSize, hd) in a layer. */
  k(layer: number, g: number): number {
    return this.at + (layer * this.shape.nKvHead + g) * this.blockSize * this.shape.headDim;
  }

  /** Arena index of key/value head g's transposed values (hd, blockSize) in a layer. */
  vt(layer: number, g: number): number {
    return this.k(layer, g) + ArenaKVCache.floats(this.nLayer, this.shape, this.blockSize) / 2;
  }

  /** The key/value head that query head h reads. */
  group(h: number): number {
    return Math.floor(h / (this.shape.nHead / this.shape.nKvHead));
  }

  /** Forgets every position; zeroes the region, since products also read the unused rows. */
  reset(a: Float32Array): void {
    this.length = 0;
    a.fill(0, this.at, this.at + ArenaKVCache.floats(this.nLayer, this.shape, this.blockSize));
  }
}

/** One attention call: which layer, where its queries are and where the heads go. */
export interface AttendArgs {
  readonly cache: ArenaKVCache;
  readonly layer: number;
  /** Keys a query sees in a sliding-window layer, itself included; 0 for all. */
  readonly window: number;
  /** Arena index of the first query's qkv row. */
  readonly qkv: number;
  /** Arena index of the output (rows, nh·hd). */
  readonly out: number;
  /** Queries, at positions start, start + 1, ... */
  readonly rows: number;
  readonly start: number;
}

/** Copies the k and v heads of `rows` rows of qkv into the cache at positions start.., for one layer. */
export function storeKV(cache: ArenaKVCache, layer: number, a: Float32Array, qkv: number, rows: number, start: number): void {
  const { nHead: nh, nKvHead: nkv, headDim: hd } = cache.shape;
  const bs = cache.blockSize;
  for (let r = 0; r < rows; r++) {
    const [row, p] = [qkv + r * cache.qkvWidth, start + r];
    for (let g = 0; g < nkv; g++) {
      const k = row + (nh + g) * hd;
      const [v, vt] = [k + nkv * hd, cache.vt(layer, g) + p];
      a.copyWithin(cache.k(layer, g) + p * hd, k, k + hd);
      for (let d = 0; d < hd; d++) a[vt + d * bs] = a[v + d];
    }
  }
}

/**
 * Writes the heads of `rows` new queries (at positions start..) side by side into out (rows, nh·hd):
 * the concatenation that W^O projects. Plain loops, for engines whose products are no faster.
 * `scores` is scratch of at least blockSize doubles.
 */
export function attendRows({ cache, layer, window, qkv, out, rows, start }: AttendArgs, a: Float32Array, scores: Float64Array): void {
  const { nHead: nh, headDim: hd, scale } = cache.shape;
  const bs = cache.blockSize;
  for (let r = 0; r < rows; r++) {
    const p = start + r; // keys first..p are visible (causal, windowed)
    const first = firstKey(p, window);
    for (let h = 0; h < nh; h++) {
      const g = cache.group(h);
      const [q, k, vt] = [qkv + r * cache.qkvWidth + h * hd, cache.k(layer, g), cache.vt(layer, g)];
      let max = -Infinity;
      for (let j = first; j <= p; j++) {
        let s = 0;
        for (let d = 0; d < hd; d++) s += a[q + d] * a[k + j * hd + d];
        scores[j] = s * scale;
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = first; j <= p; j++) sum += scores[j] = Math.exp(scores[j] - max);
      const o = out + (r * nh + h) * hd;
      for (let d = 0; d < hd; d++) {
        let acc = 0;
        for (let j = first; j <= p; j++) acc += scores[j] * a[vt + d * bs + j];
        a[o + d] = acc / sum;
      }
    }
  }
}
