import {
  floatsOf,
  isTensor,
  productLoops,
  type HostTensor,
  type MatMulEngine,
  type MatrixRef,
  type VectorRef,
  type WeightInput,
} from '../engine.js';
import { blocksOf, packedIndex, packedLength, packInto, paddedK, permutedIndex } from './dotPack.js';
import { DOT_WASM_BASE64 } from './dotWasm.js';

/** A packed weight in the engine's memory. */
interface DotMatrix extends MatrixRef {
  /** Byte offset of the packed values. */
  readonly ptr: number;
  /** 2: bfloat16, 4: float32. */
  readonly bytes: 2 | 4;
  readonly kp: number;
  readonly blocks: number;
}

interface DotExports {
  readonly memory: WebAssembly.Memory;
  dot_bf16(x: number, rows: number, k: number, w: number, blocks: number, out: number): void;
  dot_f32(x: number, rows: number, k: number, w: number, blocks: number, out: number): void;
}

const PAGE = 65536;
/** wasm32's limit: 65536 pages of 64 KiB. */
const MAX_BYTES = 4 * 2 ** 30;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let compiled: WebAssembly.Module | undefined;

/**
 * The decoder engine for checkpoints too large for tfjs: its own WebAssembly memory (up to
 * wasm32's 4 GiB) holding the weights packed for dot.wat's SIMD kernels, bfloat16 weights kept as
 * bfloat16 (half of float32's bytes, widened exactly in the kernel) and float32 ones as they are;
 * activations and sums are float32. A one-token step of a large model is bound by streaming its
 * weights, so storing 2 bytes a weight is what makes Gemma 3 1B (2 GB in bfloat16, 4 GB in float32)
 * fit and run; on small models it is a fast portable engine for any backend.
 *
 * Memory is taken by a bump allocator and returned all at once by dispose().
 */
export class DotEngine implements MatMulEngine {
  readonly fastProducts = false;
  private ex: DotExports;
  private top = 16; // 0 stays unused
  private view = new Float32Array(0);
  /** Scratch for a permuted x and a padded output, grown as needed. */
  private scratch = { ptr: 0, floats: 0 };
  private disposed = false;

  constructor() {
    compiled ??= new WebAssembly.Module(decodeBase64(DOT_WASM_BASE64));
    this.ex = new WebAssembly.Instance(compiled).exports as unknown as DotExports;
  }

  /** Bytes of engine memory in use. */
  get bytesUsed(): number {
    return this.top;
  }

  private alloc(bytes: number, what: string): number {
    const ptr = this.top;
    const end = ptr + Math.ceil(bytes / 16) * 16;
    if (end > MAX_BYTES) {
      const gib = (end / 2 ** 30).toFixed(2);
      throw new Error(
        `DotEngine: ${what} would bring its memory to ${gib} GiB, above WebAssembly's 4 GiB; keep the weights in bfloat16 (torch_dtype "bfloat16") or use a smaller model.`,
      );
    }
    const have = this.ex.memory.buffer.byteLength;
    if (end > have) this.ex.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return ptr;
  }

  heap(): Float32Array {
    if (this.view.buffer !== this.ex.memory.buffer) this.view = new Float32Array(this.ex.memory.buffer);
    return this.view;
  }

  reserve(floats: number): number {
    return this.alloc(4 * floats, `reserving ${floats} floats`) >> 2; // fresh wasm memory is zeroed
  }

  matrix(t: WeightInput, transposed: boolean): MatrixRef {
    const [r, c] = t.shape;
    const [k, n] = transposed ? [c, r] : [r, c];
    const [kp, blocks] = [paddedK(k), blocksOf(n)];
    const bf16 = !isTensor(t) && t.dtype === 'BF16';
    const bytes = bf16 ? 2 : 4;
    const ptr = this.alloc(bytes * packedLength(k, n), `a ${k}×${n} weight`);
    const data = bf16 ? (t as HostTensor).read() : floatsOf(t);
    // The stored array is the canonical (r, c), or its transpose for an out-major host tensor.
    const storedIsW = (isTensor(t) || !t.outMajor) !== transposed;
    const [sj, si] = storedIsW ? [1, n] : [k, 1];
    const len = packedLength(k, n);
    const buf = this.ex.memory.buffer;
    if (bf16) packInto(data as Uint16Array, k, n, sj, si, new Uint16Array(buf, ptr, len));
    else packInto(data as Float32Array, k, n, sj, si, new Float32Array(buf, ptr, len));
    const m: DotMatrix = { k, n, ptr, bytes, kp, blocks };
    return m;
  }

  vector(t: WeightInput): VectorRef {
    const data = floatsOf(t);
    const offset = this.alloc(4 * data.length, `a vector of ${data.length}`) >> 2;
    this.heap().set(data, offset);
    return { array: () => this.heap(), offset, size: data.length };
  }

  column(w: MatrixRef, j: number, out: number, scale: number): void {
    const { k, ptr, bytes, kp } = w as DotMatrix;
    const h = this.heap();
    const s = Math.fround(scale);
    if (bytes === 2) {
      const u16 = new Uint16Array(this.ex.memory.buffer, ptr);
      const bits = new Uint32Array(h.buffer);
      for (let i = 0; i < k; i++) {
        bits[out + i] = u16[packedIndex(i, j, kp, false)] << 16; // bfloat16 → float32, exactly
        h[out + i] = Math.fround(h[out + i] * s);
      }
    } else {
      const f = ptr >> 2;
      for (let i = 0; i < k; i++) h[out + i] = Math.fround(h[f + packedIndex(i, j, kp, true)] * s);
    }
  }

  /** A scratch region of at least `floats` floats (its byte offset); may grow the memory. */
  private scratchFor(floats: number): number {
    if (this.scratch.floats < floats) this.scratch = { ptr: this.alloc(4 * floats, 'scratch'), floats };
    return this.scratch.ptr;
  }

  matMul(x: number, rows: number, w: MatrixRef, out: number): void {
    const { k, n, ptr, bytes, kp, blocks } = w as DotMatrix;
    const direct = blocks * 4 === n; // else the padded outputs go to scratch first
    const xp = this.scratchFor(rows * kp + (direct ? 0 : rows * blocks * 4));
    const h = this.heap();
    const xq = xp >> 2;
    h.fill(0, xq, xq + rows * kp);
    for (let r = 0; r < rows; r++) for (let i = 0; i < k; i++) h[xq + r * kp + permutedIndex(i)] = h[x + r * k + i];
    const o = direct ? 4 * out : xp + 4 * rows * kp;
    (bytes === 2 ? this.ex.dot_bf16 : this.ex.dot_f32)(xp, rows, kp, ptr, blocks, o);
    if (direct) return;
    for (let r = 0; r < rows; r++) h.copyWithin(out + r * n, (o >> 2) + r * blocks * 4, (o >> 2) + r * blocks * 4 + n);
  }

  product(x: number, rows: number, k: number, b: number, n: number, out: number): void {
    productLoops(this.heap(), x, rows, k, b, n, out);
  }

  isCurrent(): boolean {
    return !this.disposed; // it reads only its own memory
  }

  dispose(): void {
    this.disposed = true;
    this.view = new Float32Array(0);
    // Drop the instance so its memory (up to 4 GiB) can be collected even while this object lives on.
    this.ex = undefined as unknown as DotExports;
  }
}
