import * as tf from '@tensorflow/tfjs-core';
import { currentWasmBackend, heapOffset, type WasmBackend } from './module.js';
import { transposeInto } from '../../util/transpose.js';
import {
  isTensor,
  matrixFloats,
  floatsOf,
  type MatMulEngine,
  type MatrixRef,
  type VectorRef,
  type WeightInput,
} from '../engine.js';

/** A weight registered with the wasm module under its own id. */
interface XnnMatrix extends MatrixRef {
  readonly id: number;
  /** Heap byte offset of W (k, n), row-major. */
  readonly ptr: number;
}

/**
 * The wasm engine: products run on XNNPACK through the wasm module's _BatchMatMul entry, called
 * directly on heap offsets, with no tfjs kernel dispatch around it (~8 µs for a 128×512 row
 * against ~30 µs of bookkeeping per tfjs op).
 *
 * The module caches XNNPACK's packed copy of a right operand by tensor id, so each weight gets
 * one id for the engine's lifetime: it is packed on first use and reused by every later step.
 * Weights are read in place from the tensors' heap memory; only a transposed view (the tied LM
 * head) is copied. Left operands and outputs get fresh ids per call, released at once.
 */
export class XnnpackEngine implements MatMulEngine {
  readonly fastProducts = true;
  private readonly owned: number[] = [];
  private readonly ids: number[] = [];
  private readonly shapes: number;

  private constructor(private readonly be: WasmBackend) {
    this.shapes = this.alloc(8 * 4); // two rank-3 shape arrays for _BatchMatMul
  }

  /** An engine on the current backend, or undefined when it is not tfjs-backend-wasm. */
  static create(): XnnpackEngine | undefined {
    const be = currentWasmBackend();
    return be ? new XnnpackEngine(be) : undefined;
  }

  private alloc(bytes: number): number {
    const ptr = this.be.wasm._malloc(bytes);
    if (ptr === 0) throw new Error(`XnnpackEngine: the wasm heap could not allocate ${bytes} bytes.`);
    this.owned.push(ptr);
    return ptr;
  }

  private register(floats: number, ptr: number): number {
    const id = this.be.dataIdNextNumber++;
    this.be.wasm._register_tensor(id, floats, ptr);
    return id;
  }

  heap(): Float32Array {
    return this.be.wasm.HEAPF32;
  }

  reserve(floats: number): number {
    const ptr = this.alloc(4 * floats);
    this.heap().fill(0, ptr >> 2, (ptr >> 2) + floats);
    return ptr >> 2;
  }

  /** A (k, n) weight at heap byte offset ptr, under an id kept for the engine's lifetime. */
  private weight(k: number, n: number, ptr: number): MatrixRef {
    const id = this.register(k * n, ptr);
    this.ids.push(id);
    const m: XnnMatrix = { k, n, id, ptr };
    return m;
  }

  matrix(t: WeightInput, transposed: boolean): MatrixRef {
    if (!isTensor(t) || t.dtype !== 'float32') {
      // A host tensor (or a tensor on another backend's terms): one copy into the heap.
      const { k, n, data } = matrixFloats(t, transposed, 'kn');
      const ptr = this.alloc(4 * k * n);
      this.heap().set(data, ptr >> 2);
      return this.weight(k, n, ptr);
    }
    const [r, c] = t.shape;
    const src = heapOffset(this.be, t);
    if (!transposed) return this.weight(r, c, src);
    const ptr = this.alloc(4 * r * c);
    const h = this.heap();
    transposeInto(h, src >> 2, r, c, h, ptr >> 2);
    return this.weight(c, r, ptr);
  }

  vector(t: WeightInput): VectorRef {
    if (isTensor(t)) {
      const offset = heapOffset(this.be, t) >> 2;
      return { array: () => this.heap(), offset, size: t.size };
    }
    const data = floatsOf(t);
    const ptr = this.alloc(4 * data.length);
    this.heap().set(data, ptr >> 2);
    return { array: () => this.heap(), offset: ptr >> 2, size: data.length };
  }

  column(w: MatrixRef, j: number, out: number, scale: number): void {
    const { k, n, ptr } = w as XnnMatrix;
    const [h, at, s] = [this.heap(), ptr >> 2, Math.fround(scale)];
    for (let i = 0; i < k; i++) h[out + i] = Math.fround(h[at + i * n + j] * s);
  }

  matMul(x: number, rows: number, w: MatrixRef, out: number): void {
    const { k, n, id } = w as XnnMatrix;
    this.run(x, rows, k, id, n, out);
  }

  product(x: number, rows: number, k: number, b: number, n: number, out: number): void {
    // A fresh id: the module would otherwise reuse the packed copy of an earlier B.
    const id = this.register(k * n, 4 * b);
    this.run(x, rows, k, id, n, out);
    this.be.wasm._dispose_data(id);
  }

  private run(x: number, rows: number, k: number, bId: number, n: number, out: number): void {
    const m = this.be.wasm;
    m.HEAPU32.set([1, rows, k, 0, 1, k, n, 0], this.shapes >> 2);
    const a = this.register(rows * k, 4 * x);
    const o = this.register(rows * n, 4 * out);
    m._BatchMatMul(a, this.shapes, 3, bId, this.shapes + 16, 3, 0, 0, o);
    m._dispose_data(a);
    m._dispose_data(o);
  }

  isCurrent(): boolean {
    // Switching backends moves every tensor's data off the wasm heap the weights are read from.
    return tf.getBackend() === 'wasm' && tf.backend() === (this.be as unknown);
  }

  dispose(): void {
    const m = this.be.wasm;
    for (const id of this.ids.splice(0)) m._dispose_data(id); // also frees XNNPACK's packed copy
    for (const ptr of this.owned.splice(0)) m._free(ptr);
  }
}
