/**
 * Causal attention of new rows against a KV cache in the decoder's arena. With q, k, v the slices
 * of GPT-2's fused projection qkv = x·W_attn (q | k | v, each split into heads of hs columns),
 * head h of the query at position p is
 *   out_h = Σ_{j ≤ p} α_j v_j,  α = softmax_j(q·k_j / √hs)   (Vaswani et al., eq. 1),
 * over the cached positions j < S and the new ones S..p.
 */

/**
 * Keys and values of every position read so far, as two regions of the arena: keys
 * (nLayer, nh, blockSize, hs) and values transposed, (nLayer, nh, hs, blockSize). Both layouts make
 * one layer's heads a single matrix (nh·blockSize, hs) or (nh·hs, blockSize) for the engine.
 */
export class ArenaKVCache {
  /** Positions held (every layer holds the same ones after a step). */
  length = 0;

  constructor(
    readonly nLayer: number,
    readonly nHead: number,
    readonly blockSize: number,
    readonly headSize: number,
    /** Arena index of the first float; the cache spans {@link floats} of them. */
    readonly at: number,
  ) {}

  /** Floats a cache of these sizes occupies. */
  static floats(nLayer: number, nHead: number, blockSize: number, headSize: number): number {
    return 2 * nLayer * nHead * blockSize * headSize;
  }

  /** Arena index of head h's keys (blockSize, hs) in a layer. */
  k(layer: number, head: number): number {
    return this.at + (layer * this.nHead + head) * this.blockSize * this.headSize;
  }

  /** Arena index of head h's transposed values (hs, blockSize) in a layer. */
  vt(layer: number, head: number): number {
    return this.k(layer, head) + this.nLayer * this.nHead * this.blockSize * this.headSize;
  }

  /** Forgets every position; zeroes the arena region, since products also read the unused rows. */
  reset(a: Float32Array): void {
    this.length = 0;
    a.fill(0, this.at, this.at + ArenaKVCache.floats(this.nLayer, this.nHead, this.blockSize, this.headSize));
  }
}

/** Copies the k and v columns of `rows` rows of qkv (rows, 3C) into the cache at positions start.., for one layer. */
export function storeKV(cache: ArenaKVCache, layer: number, a: Float32Array, qkv: number, rows: number, start: number): void {
  const { nHead: nh, headSize: hs, blockSize: bs } = cache;
  const c = nh * hs;
  for (let r = 0; r < rows; r++) {
    const [row, p] = [qkv + r * 3 * c, start + r];
    for (let h = 0; h < nh; h++) {
      const [k, v, vt] = [row + c + h * hs, row + 2 * c + h * hs, cache.vt(layer, h) + p];
      a.copyWithin(cache.k(layer, h) + p * hs, k, k + hs);
      for (let d = 0; d < hs; d++) a[vt + d * bs] = a[v + d];
    }
  }
}

/**
 * Writes the heads of `rows` new queries (at positions start..) side by side into out (rows, C):
 * the concatenation that W^O projects. Plain loops, for engines whose products are no faster.
 * `scores` is scratch of at least blockSize doubles.
 */
export function attendRows(
  cache: ArenaKVCache,
  layer: number,
  a: Float32Array,
  qkv: number,
  out: number,
  rows: number,
  start: number,
  scores: Float64Array,
): void {
  const { nHead: nh, headSize: hs, blockSize: bs } = cache;
  const c = nh * hs;
  const scale = 1 / Math.sqrt(hs);
  for (let r = 0; r < rows; r++) {
    const p = start + r; // keys 0..p are visible (causal)
    for (let h = 0; h < nh; h++) {
      const [q, k, vt] = [qkv + r * 3 * c + h * hs, cache.k(layer, h), cache.vt(layer, h)];
      let max = -Infinity;
      for (let j = 0; j <= p; j++) {
        let s = 0;
        for (let d = 0; d < hs; d++) s += a[q + d] * a[k + j * hs + d];
        scores[j] = s * scale;
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = 0; j <= p; j++) sum += scores[j] = Math.exp(scores[j] - max);
      const o = out + r * c + h * hs;
      for (let d = 0; d < hs; d++) {
        let acc = 0;
        for (let j = 0; j <= p; j++) acc += scores[j] * a[vt + d * bs + j];
        a[o + d] = acc / sum;
      }
    }
  }
}
