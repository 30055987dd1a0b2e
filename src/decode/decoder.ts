import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedGPTConfig } from '../config/config.js';
import { geluInPlace } from '../ops/geluTable.js';
import { ArenaKVCache, attendRows, storeKV, type HeadShape } from './attention.js';
import { isTensor, JsEngine, type MatMulEngine, type WeightInput } from '../ops/engine.js';
import { readModel, type LayerRefs, type Linear, type ModelRefs } from './layout.js';
import { attendBlock, attendStacked, productScratch, type ProductScratch } from './productAttention.js';
import {
  addBiasRows,
  addInto,
  geluTanhInPlace,
  mulInto,
  normRows,
  reluInPlace,
  rmsNormRows,
  rotateHalf,
  siluInPlace,
} from './rowOps.js';
import { XnnpackEngine } from '../ops/wasm/xnnpackEngine.js';

/** Longest run of new tokens multiplied at once; longer inputs are read in chunks of it. */
const CHUNK = 64;
/** From this many new tokens on, attention runs as two matrix products per head (attendBlock). */
const BLOCK_ROWS = 4;

/**
 * What the decoder reads from a model: its config, its weights by canonical name (a GPT's
 * variables, or host tensors read from a checkpoint for inference), and whether it is still alive.
 */
export interface DecoderSource {
  readonly config: ResolvedGPTConfig;
  namedWeights(): ReadonlyMap<string, WeightInput>;
  /** Throws when the model has been disposed. */
  checkAlive(): void;
}

type Buffers = Readonly<Record<'x' | 'xn' | 'qkv' | 'att' | 'tmp' | 'hid' | 'up' | 'logits', number>>;

/**
 * Incremental inference for one sequence without tensors: the same function as
 * `GPT.forwardCached` (embeddings, pre-norm blocks t1..h, final norm, LM head), computed on a flat
 * arena with the matrix products on a {@link MatMulEngine}. `feed` appends new tokens to its KV
 * cache and returns the next-token logits p(w_{N+1} | w_1..w_N) before softmax.
 *
 * It reads the model's weights in place (on wasm) or copies them (elsewhere) when built, so it
 * checks before every step that no weight was reassigned or disposed since: see {@link isCurrent}.
 */
export class Decoder {
  readonly config: ResolvedGPTConfig;
  private readonly engine: MatMulEngine;
  private readonly refs: ModelRefs;
  private readonly cache: ArenaKVCache;
  private readonly sources: Array<readonly [tf.Tensor, object]> = [];
  private readonly buf: Buffers;
  private readonly scratch: ProductScratch;
  private readonly scores: Float64Array;
  private disposed = false;

  /** A decoder for `model` on XNNPACK when the backend is wasm, else on JS loops. */
  constructor(model: DecoderSource, engine: MatMulEngine = XnnpackEngine.create() ?? new JsEngine()) {
    model.checkAlive();
    const c = (this.config = model.config);
    this.engine = engine;
    const named = model.namedWeights();
    this.refs = readModel(c, engine, (name) => {
      const v = named.get(name);
      if (v && isTensor(v)) this.sources.push([v, v.dataId]);
      return v;
    });
    const shape: HeadShape = { nHead: c.nHead, nKvHead: c.nKvHead, headDim: c.headDim, scale: c.attnScale };
    const [C, F, R, A] = [c.nEmbd, c.ffnHidden, Math.min(CHUNK, c.blockSize), c.nHead * c.headDim];
    const qkvWidth = (c.nHead + 2 * c.nKvHead) * c.headDim;
    const sizes = { x: R * C, xn: R * C, qkv: R * qkvWidth, att: R * A, tmp: R * C, hid: R * F, up: R * F, logits: c.vocabSize };
    const kv = ArenaKVCache.floats(c.nLayer, shape, c.blockSize);
    const own = Object.values(sizes).reduce((s, n) => s + n, 0) + kv;
    let at = this.engine.reserve(own + productScratch(0, R, c.blockSize, shape).end);
    const buf: Record<string, number> = {};
    for (const [k, n] of Object.entries(sizes)) [buf[k], at] = [at, at + n];
    this.buf = buf as Buffers;
    this.cache = new ArenaKVCache(c.nLayer, shape, c.blockSize, at);
    this.scratch = productScratch(at + kv, R, c.blockSize, shape).scratch;
    this.scores = new Float64Array(c.blockSize);
  }

  /** Positions in the KV cache. */
  get length(): number {
    return this.cache.length;
  }

  /** False once a weight was reassigned (e.g. by training) or disposed, or the backend switched: build a new decoder. */
  isCurrent(): boolean {
    return !this.disposed && this.engine.isCurrent() && this.sources.every(([t, id]) => !t.isDisposed && t.dataId === id);
  }

  /** Forgets every cached position. */
  reset(): void {
    this.cache.reset(this.engine.heap());
  }

  /**
   * Reads `ids` after the cached positions and returns the logits (V) after the last of them, a
   * fresh array. Throws when the cache would exceed blockSize: reset it and feed the window again.
   */
  feed(ids: readonly number[]): Float32Array {
    if (!this.isCurrent()) {
      throw new Error(
        this.disposed ? 'Decoder: disposed.' : "Decoder: the model's weights changed since it was built; build a new Decoder.",
      );
    }
    const { blockSize: bs, vocabSize: v } = this.config;
    if (ids.length === 0) throw new Error('Decoder.feed: pass at least one token id.');
    if (this.cache.length + ids.length > bs) {
      throw new Error(
        `Decoder.feed: ${this.cache.length} cached + ${ids.length} new positions exceed blockSize ${bs}; reset() and feed the last tokens.`,
      );
    }
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= v)
        throw new Error(`Decoder.feed: token id ${id} is not an integer in [0, ${v}).`);
    }
    let rows = 0;
    for (let s = 0; s < ids.length; s += CHUNK) rows = this.step(ids.slice(s, s + CHUNK), s + CHUNK >= ids.length);
    return this.logits(rows - 1);
  }

  /** x = token embedding (×√C with scaleEmbeddings) + learned position, for rows at positions start... */
  private embed(ids: readonly number[], start: number): void {
    const { nEmbd: C } = this.config;
    const { tokens, wpe, embedScale } = this.refs;
    ids.forEach((id, r) => this.engine.column(tokens, id, this.buf.x + r * C, embedScale));
    if (!wpe) return;
    const [a, pe, x] = [this.engine.heap(), wpe.array(), this.buf.x];
    for (let r = 0; r < ids.length; r++) for (let i = 0; i < C; i++) a[x + r * C + i] += pe[wpe.offset + (start + r) * C + i];
  }

  /** y = x·W + b on `rows` rows; returns the (possibly regrown) heap. */
  private linear(src: number, rows: number, l: Linear, dst: number): Float32Array {
    this.engine.matMul(src, rows, l.w, dst);
    const a = this.engine.heap();
    if (l.b) addBiasRows(a, dst, rows, l.b);
    return a;
  }

  /**
   * Runs the layers over one chunk of new tokens, extending the cache; returns its length. In the
   * last chunk's last layer only the final row's output is needed (every row's k and v still are),
   * so attention and FFN run on that row alone.
   */
  private step(ids: readonly number[], final: boolean): number {
    const { nEmbd: C, nLayer } = this.config;
    const { x, xn, qkv, att, tmp, hid, up } = this.buf;
    const [T, start, e] = [ids.length, this.cache.length, this.engine];
    this.embed(ids, start);
    this.refs.layers.forEach((l, layer) => {
      const { eps, ffnHidden: F } = l.plan;
      let a = e.heap();
      normRows(a, x, xn, T, C, l.preAttnNorm, eps); // t1 = N(x)
      a = this.linear(xn, T, l.qkv, qkv); // q | k | v
      this.positionHeads(a, l, T, start);
      storeKV(this.cache, layer, a, qkv, T, start);
      const r0 = final && layer === nLayer - 1 ? T - 1 : 0; // first row whose output is used
      const [n, xr, q] = [T - r0, x + r0 * C, qkv + r0 * this.cache.qkvWidth];
      const call = { cache: this.cache, layer, window: l.plan.window, qkv: q, out: att, rows: n, start: start + r0 };
      if (n >= BLOCK_ROWS) attendBlock(e, call, this.scratch);
      else if (e.fastProducts) attendStacked(e, call, this.scratch);
      else attendRows(call, a, this.scores);
      a = this.linear(att, n, l.proj, tmp); // t2 = MHA(t1)
      if (l.postAttnNorm) normRows(a, tmp, tmp, n, C, l.postAttnNorm, eps);
      addInto(a, xr, tmp, n * C); // t3 = t2 + x
      normRows(a, xr, xn, n, C, l.preFfnNorm, eps); // t4 = N(t3)
      this.linear(xn, n, l.fc, hid);
      if (l.up) this.linear(xn, n, l.up, up);
      this.activate(l.plan.activation, hid, up, n * F);
      a = this.linear(hid, n, l.out, tmp); // t5 = FFN(t4)
      if (l.postFfnNorm) normRows(a, tmp, tmp, n, C, l.postFfnNorm, eps);
      addInto(a, xr, tmp, n * C); // h = t5 + t3
    });
    this.cache.length = start + T;
    return T;
  }

  /** QK-norm and rotary positions on the q and k heads of `rows` qkv rows at positions start... */
  private positionHeads(a: Float32Array, l: LayerRefs, rows: number, start: number): void {
    if (!l.qNorm && !l.rope) return;
    const { nHead: nh, nKvHead: nkv, headDim: hd } = this.cache.shape;
    for (let r = 0; r < rows; r++) {
      const row = this.buf.qkv + r * this.cache.qkvWidth;
      for (let h = 0; h < nh + nkv; h++) {
        const at = row + h * hd; // query heads, then key heads
        const gain = h < nh ? l.qNorm : l.kNorm;
        if (gain) rmsNormRows(a, at, at, 1, hd, gain, l.plan.eps);
        if (l.rope) rotateHalf(a, at, hd, l.rope, start + r);
      }
    }
  }

  /** The FFN's nonlinearity on hid (n floats), gated ones multiplied by the up projection. */
  private activate(activation: LayerRefs['plan']['activation'], hid: number, up: number, n: number): void {
    const a = this.engine.heap();
    switch (activation) {
      case 'gelu':
        return geluInPlace(a, hid, n);
      case 'gelu_tanh':
        return geluTanhInPlace(a, hid, n);
      case 'relu':
        return reluInPlace(a, hid, n);
      case 'swiglu':
        siluInPlace(a, hid, n);
        return mulInto(a, hid, up, n);
      case 'geglu':
        geluTanhInPlace(a, hid, n);
        return mulInto(a, hid, up, n);
    }
  }

  /** Final norm and LM head on row `row` of the last chunk. */
  private logits(row: number): Float32Array {
    const { nEmbd: C, layerNormEps: eps, vocabSize: v } = this.config;
    const { x, xn, logits } = this.buf;
    normRows(this.engine.heap(), x + row * C, xn, 1, C, this.refs.finalNorm, eps);
    this.engine.matMul(xn, 1, this.refs.head, logits);
    return this.engine.heap().slice(logits, logits + v);
  }

  /** Frees the engine's memory; the model is untouched. */
  dispose(): void {
    if (this.disposed) return;
    this.engine.dispose();
    this.disposed = true;
  }
}
