import * as tf from '@tensorflow/tfjs-core';
import { usesGpt2Layout } from '../model/architecture.js';
import type { ResolvedGPTConfig } from '../model/config.js';
import { GPT } from '../model/gpt.js';
import type { LanguageModel } from '../model/types.js';
import { geluInPlace } from '../ops/geluTable.js';
import { ArenaKVCache, attendRows, storeKV } from './attention.js';
import { attendBlock, attendStacked, productScratch, type ProductScratch } from './productAttention.js';
import { JsEngine, type MatMulEngine, type MatrixRef, type VectorRef } from './engine.js';
import { addBiasRows, addInto, geluTanhInPlace, layerNormRows, mulInto, reluInPlace, siluInPlace } from './rowOps.js';
import { XnnpackEngine } from './xnnpackEngine.js';

/** Longest run of new tokens multiplied at once; longer inputs are read in chunks of it. */
const CHUNK = 64;
/** From this many new tokens on, attention runs as two matrix products per head (attendBlock). */
const BLOCK_ROWS = 4;

/** A linear layer y = x·W + b as the engine sees it. */
interface Linear {
  readonly w: MatrixRef;
  readonly b: VectorRef | undefined;
}

/** One GPT-2 block's weights. */
interface BlockRefs {
  readonly ln1: readonly [VectorRef, VectorRef | undefined];
  readonly attn: Linear;
  readonly proj: Linear;
  readonly ln2: readonly [VectorRef, VectorRef | undefined];
  readonly fc: Linear;
  readonly up: Linear | undefined;
  readonly out: Linear;
}

/** Whether {@link Decoder} can run this model: a tinygpt GPT in GPT-2's layout. */
export function supportsDecoder(model: LanguageModel): model is GPT {
  return model instanceof GPT && usesGpt2Layout(model.config);
}

/**
 * Incremental inference for one sequence without tensors: the same function as
 * `GPT.forwardCached` (token + position embedding, pre-norm blocks t1..h, final LayerNorm, LM head),
 * computed on a flat arena with the matrix products on a {@link MatMulEngine}. `feed` appends new
 * tokens to its KV cache and returns the next-token logits p(w_{N+1} | w_1..w_N) before softmax.
 *
 * It reads the model's weights in place (on wasm) or copies them (elsewhere) when built, so it
 * checks before every step that no weight was reassigned or disposed since: see {@link isCurrent}.
 */
export class Decoder {
  readonly config: ResolvedGPTConfig;
  private readonly engine: MatMulEngine;
  private readonly cache: ArenaKVCache;
  private readonly sources: Array<readonly [tf.Tensor, object]> = [];
  private readonly wte: VectorRef;
  private readonly wpe: VectorRef;
  private readonly blocks: readonly BlockRefs[];
  private readonly lnF: readonly [VectorRef, VectorRef | undefined];
  private readonly head: MatrixRef;
  private readonly buf: Readonly<Record<'x' | 'xn' | 'qkv' | 'att' | 'tmp' | 'hid' | 'up' | 'logits', number>>;
  private readonly scores: Float64Array;
  private readonly scratch: ProductScratch;
  private disposed = false;

  /** A decoder for `model` on XNNPACK when the backend is wasm, else on JS loops. */
  constructor(model: GPT, engine: MatMulEngine = XnnpackEngine.create() ?? new JsEngine()) {
    if (!supportsDecoder(model)) {
      throw new Error('Decoder runs GPT models in GPT-2 layout only (LayerNorm, learned positions, full attention); use model.forwardCached for others.');
    }
    const c = (this.config = model.config);
    this.engine = engine;
    const named = model.namedWeights();
    const get = (name: string): tf.Variable => {
      const v = named.get(name);
      if (v === undefined) throw new Error(`Decoder: the model has no weight "${name}".`);
      this.sources.push([v, v.dataId]);
      return v;
    };
    const opt = (name: string) => (named.has(name) ? this.engine.vector(get(name)) : undefined);
    const vec = (name: string) => this.engine.vector(get(name));
    const lin = (name: string): Linear => ({ w: this.engine.matrix(get(`${name}.weight`) as tf.Tensor2D, false), b: opt(`${name}.bias`) });
    const norm = (name: string) => [vec(`${name}.weight`), opt(`${name}.bias`)] as const;
    this.wte = vec('wte.weight');
    this.wpe = vec('wpe.weight');
    this.blocks = Array.from({ length: c.nLayer }, (_, i) => ({
      ln1: norm(`h.${i}.ln_1`),
      attn: lin(`h.${i}.attn.c_attn`),
      proj: lin(`h.${i}.attn.c_proj`),
      ln2: norm(`h.${i}.ln_2`),
      fc: lin(`h.${i}.mlp.c_fc`),
      up: named.has(`h.${i}.mlp.c_up.weight`) ? lin(`h.${i}.mlp.c_up`) : undefined,
      out: lin(`h.${i}.mlp.c_proj`),
    }));
    this.lnF = norm('ln_f');
    // logits = h·W_headᵀ with W_head (V, C): the tied embedding or the separate head.
    this.head = this.engine.matrix(get(c.tieEmbeddings ? 'wte.weight' : 'lm_head.weight') as tf.Tensor2D, true);
    const [C, F, R] = [c.nEmbd, c.ffnHidden, Math.min(CHUNK, c.blockSize)];
    const sizes = { x: R * C, xn: R * C, qkv: 3 * R * C, att: R * C, tmp: R * C, hid: R * F, up: R * F, logits: c.vocabSize };
    const hs = c.nEmbd / c.nHead;
    const kv = ArenaKVCache.floats(c.nLayer, c.nHead, c.blockSize, hs);
    const total = Object.values(sizes).reduce((s, n) => s + n, 0) + kv;
    let at = this.engine.reserve(total + productScratch(0, R, c.blockSize, c.nHead, hs).end);
    const buf: Record<string, number> = {};
    for (const [k, n] of Object.entries(sizes)) [buf[k], at] = [at, at + n];
    this.buf = buf as Decoder['buf'];
    this.cache = new ArenaKVCache(c.nLayer, c.nHead, c.blockSize, hs, at);
    this.scratch = productScratch(at + kv, R, c.blockSize, c.nHead, hs).scratch;
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
      throw new Error(this.disposed ? 'Decoder: disposed.' : "Decoder: the model's weights changed since it was built; build a new Decoder.");
    }
    const { blockSize: bs, vocabSize: v } = this.config;
    if (ids.length === 0) throw new Error('Decoder.feed: pass at least one token id.');
    if (this.cache.length + ids.length > bs) {
      throw new Error(`Decoder.feed: ${this.cache.length} cached + ${ids.length} new positions exceed blockSize ${bs}; reset() and feed the last tokens.`);
    }
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= v) throw new Error(`Decoder.feed: token id ${id} is not an integer in [0, ${v}).`);
    }
    let rows = 0;
    for (let s = 0; s < ids.length; s += CHUNK) rows = this.step(ids.slice(s, s + CHUNK), s + CHUNK >= ids.length);
    return this.logits(rows - 1);
  }

  /**
   * Runs the blocks over one chunk of new tokens, extending the cache; returns its length. In the
   * last chunk's last layer only the final row's output is needed (every row's k and v still are),
   * so attention and FFN run on that row alone.
   */
  private step(ids: readonly number[], final: boolean): number {
    const { nEmbd: C, ffnHidden: F, layerNormEps: eps, nLayer } = this.config;
    const { x, xn, qkv, att, tmp, hid, up } = this.buf;
    const [T, start, e] = [ids.length, this.cache.length, this.engine];
    let a = e.heap();
    const [wte, wpe] = [this.wte.array(), this.wpe.array()];
    ids.forEach((id, r) => {
      for (let i = 0; i < C; i++) a[x + r * C + i] = wte[this.wte.offset + id * C + i] + wpe[this.wpe.offset + (start + r) * C + i];
    });
    const linear = (src: number, n: number, l: Linear, dst: number): Float32Array => {
      e.matMul(src, n, l.w, dst);
      a = e.heap();
      if (l.b) addBiasRows(a, dst, n, l.b);
      return a;
    };
    this.blocks.forEach((blk, layer) => {
      layerNormRows(a, x, xn, T, C, blk.ln1[0], blk.ln1[1], eps); // t1 = LN(x)
      linear(xn, T, blk.attn, qkv); // q | k | v
      storeKV(this.cache, layer, a, qkv, T, start);
      const r0 = final && layer === nLayer - 1 ? T - 1 : 0; // first row whose output is used
      const [n, xr, q] = [T - r0, x + r0 * C, qkv + r0 * 3 * C];
      if (n >= BLOCK_ROWS) attendBlock(e, this.cache, layer, q, att, n, start + r0, this.scratch);
      else if (e.fastProducts) attendStacked(e, this.cache, layer, q, att, n, start + r0, this.scratch);
      else attendRows(this.cache, layer, a, q, att, n, start + r0, this.scores);
      linear(att, n, blk.proj, tmp); // t2 = MHA(t1)
      addInto(a, xr, tmp, n * C); // t3 = t2 + x
      layerNormRows(a, xr, xn, n, C, blk.ln2[0], blk.ln2[1], eps); // t4 = LN(t3)
      linear(xn, n, blk.fc, hid);
      if (blk.up) linear(xn, n, blk.up, up);
      this.activate(hid, up, n * F);
      linear(hid, n, blk.out, tmp); // t5 = FFN(t4)
      addInto(a, xr, tmp, n * C); // h = t5 + t3
    });
    this.cache.length = start + T;
    return T;
  }

  /** The FFN's nonlinearity on hid (n floats), gated ones multiplied by the up projection. */
  private activate(hid: number, up: number, n: number): void {
    const a = this.engine.heap();
    switch (this.config.activation) {
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

  /** Final LayerNorm and LM head on row `row` of the last chunk. */
  private logits(row: number): Float32Array {
    const { nEmbd: C, layerNormEps: eps, vocabSize: v } = this.config;
    const { x, xn, logits } = this.buf;
    layerNormRows(this.engine.heap(), x + row * C, xn, 1, C, this.lnF[0], this.lnF[1], eps);
    this.engine.matMul(xn, 1, this.head, logits);
    return this.engine.heap().slice(logits, logits + v);
  }

  /** Frees the engine's memory; the model is untouched. */
  dispose(): void {
    if (this.disposed) return;
    this.engine.dispose();
    this.disposed = true;
  }
}
