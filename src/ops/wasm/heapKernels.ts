import * as tf from '@tensorflow/tfjs-core';
import { transposeInto } from '../../util/transpose.js';
import { adamwRange, type AdamWArrays, type AdamWScalars } from '../adamwRange.js';
import { geluCoefficients } from '../geluTable.js';
import { HEAP_KERNELS_FMA_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from './heapKernelsWasm.js';
import { NORM_KERNELS_WASM_BASE64 } from './normKernelsWasm.js';
import { SOFTMAX_KERNELS_WASM_BASE64 } from './softmaxKernelsWasm.js';
import { UPDATE_KERNELS_SHARED_WASM_BASE64, UPDATE_KERNELS_WASM_BASE64 } from './updateKernelsWasm.js';
import { heapOffset, isWasmBackend, type WasmBackend } from './module.js';
import { relaxedSimdAvailable } from './relaxedSimd.js';
import type { HeapExports, HeapKernelExports, NormExports, SoftmaxExports, UpdateExports } from './kernelExports.js';

/**
 * heapKernels.wat instantiated on tfjs-backend-wasm's own memory: its functions read and write
 * tensors where the backend keeps them, so a kernel costs no copy in or out. One instance per
 * backend module (a new wasm backend has a new memory). Where the engine has relaxed SIMD, the
 * variant whose matrix tiles use fused multiply-adds is loaded (~1.3-1.45x faster products, each
 * sum rounded once per step instead of twice). The module is compiled synchronously,
 * which browsers allow on the main thread only for modules under 4 KB: keep it below that
 * (test/heap-kernels.test.ts checks). The other three modules load beside it on the same memory;
 * kernelExports.ts lists what each exports.
 */

/** The modules' instances on one backend's heap, and what they keep there. */
interface Instance {
  readonly ex: HeapKernelExports;
  /** Byte offset of geluTable.ts's coefficients, copied onto the heap once. */
  readonly geluTable: number;
  /** matmul's packing scratch: byte offset and size in floats (grown on demand, kept for the backend's lifetime). */
  pack: { at: number; floats: number };
}

let compiled: WebAssembly.Module | undefined;
let updateCompiled: WebAssembly.Module | undefined;
let softmaxCompiled: WebAssembly.Module | undefined;
let normCompiled: WebAssembly.Module | undefined;
const instances = new WeakMap<object, Instance | null>();

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The fused variant where relaxed SIMD compiles, else the plain module. */
function heapModuleBytes(): Uint8Array<ArrayBuffer> {
  const fused = decodeBase64(HEAP_KERNELS_FMA_WASM_BASE64);
  return relaxedSimdAvailable(fused) ? fused : decodeBase64(HEAP_KERNELS_WASM_BASE64);
}

/** Whether the heap kernels' products use fused multiply-adds (relaxed SIMD) in this process. */
export function heapKernelsFused(): boolean {
  return relaxedSimdAvailable(decodeBase64(HEAP_KERNELS_FMA_WASM_BASE64));
}

/** The backend module's WebAssembly.Memory (Emscripten exports it as asm.memory), if it is there. */
function memoryOf(be: WasmBackend): WebAssembly.Memory | undefined {
  const asm = (be.wasm as unknown as { asm?: { memory?: unknown } }).asm;
  return asm?.memory instanceof WebAssembly.Memory ? asm.memory : undefined;
}

function instantiate(be: WasmBackend): Instance | null {
  const memory = memoryOf(be);
  if (memory === undefined) return null;
  try {
    compiled ??= new WebAssembly.Module(heapModuleBytes());
    updateCompiled ??= new WebAssembly.Module(decodeBase64(UPDATE_KERNELS_WASM_BASE64));
    softmaxCompiled ??= new WebAssembly.Module(decodeBase64(SOFTMAX_KERNELS_WASM_BASE64));
    normCompiled ??= new WebAssembly.Module(decodeBase64(NORM_KERNELS_WASM_BASE64));
    const ex = {
      ...(new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as HeapExports),
      ...(new WebAssembly.Instance(updateCompiled, { env: { memory } }).exports as unknown as UpdateExports),
      ...(new WebAssembly.Instance(softmaxCompiled, { env: { memory } }).exports as unknown as SoftmaxExports),
      ...(new WebAssembly.Instance(normCompiled, { env: { memory } }).exports as unknown as NormExports),
    };
    const co = geluCoefficients();
    const geluTable = be.wasm._malloc(4 * co.length); // kept for the backend's lifetime
    new Float32Array(memory.buffer, geluTable, co.length).set(co);
    return { ex, geluTable, pack: { at: 0, floats: 0 } };
  } catch {
    return null; // e.g. a shared (threaded) memory the module's import does not declare: JS kernels then run
  }
}

/** The instance on a backend's heap, or undefined off wasm or where it cannot load. */
function current(backend: unknown): { be: WasmBackend; inst: Instance } | undefined {
  if (!isWasmBackend(backend)) return undefined;
  let inst = instances.get(backend.wasm);
  if (inst === undefined) {
    inst = instantiate(backend);
    instances.set(backend.wasm, inst);
  }
  return inst === null ? undefined : { be: backend, inst };
}

/**
 * y = x·Φ(x) and dy = Φ(x) + x·φ(x) written into the float32 tensors y and dy (shaped like x) on
 * the heap, as geluAndDerivative computes them; false (nothing written) when the module is not
 * available on this backend or x has fewer than 4 elements.
 */
export function heapGelu(backend: unknown, x: tf.TensorInfo, y: tf.TensorInfo, dy: tf.TensorInfo): boolean {
  const c = current(backend);
  if (c === undefined) return false;
  const n = x.shape.reduce((a, b) => a * b, 1);
  const at = (t: tf.TensorInfo) => heapOffset(c.be, t);
  if (n < 4) return false; // the kernel works in blocks of four: the caller's JS loop takes these
  c.inst.ex.gelu(at(x), at(y), at(dy), n, c.inst.geluTable);
  return true;
}

/** A backend's heap kernels and what calling them needs; undefined off wasm or where the module cannot load. */
export interface HeapCall {
  readonly be: WasmBackend;
  readonly ex: HeapKernelExports;
  /** Byte offset of a tensor's data on the heap. */
  at(t: tf.TensorInfo): number;
  /** Byte offset of matmul's packing scratch for inner dimension k (16k + 48 floats). */
  pack(k: number): number;
}

export function heapCall(backend: unknown): HeapCall | undefined {
  const c = current(backend);
  if (c === undefined) return undefined;
  const { be, inst } = c;
  const pack = (k: number): number => {
    const floats = 16 * k + 48;
    if (inst.pack.floats < floats) {
      const grown = Math.max(floats, 2 * inst.pack.floats);
      const at = be.wasm._malloc(4 * grown);
      if (at === 0) throw new Error(`heap kernels: the wasm heap could not allocate ${4 * grown} bytes for matmul's scratch.`);
      if (inst.pack.floats > 0) be.wasm._free(inst.pack.at);
      inst.pack = { at, floats: grown };
    }
    return inst.pack.at;
  };
  return { be, ex: inst.ex, at: (t) => heapOffset(be, t), pack };
}

/**
 * One operand of {@link heapProduct}: the byte offset of element (0, 0) and the byte strides
 * between rows and between columns of the matrix as the product reads it, so a transposed
 * operand is the stored one with its strides swapped.
 */
export interface HeapOperand {
  readonly at: number;
  readonly row: number;
  readonly col: number;
}

/** A row-major float32 matrix of `cols` columns at byte offset `at`, read as stored or (transposed) as its transpose. */
export function heapMatrix(at: number, cols: number, transposed = false): HeapOperand {
  return transposed ? { at, row: 4, col: 4 * cols } : { at, row: 4 * cols, col: 4 };
}

/**
 * C (m, n) = A·B (+ bias) into the row-major float32 at byte offset c: heapKernels.wat's matmul
 * with A, B read through their strides (tri: the zeros it may skip, see the .wat); with bSums (a
 * byte offset), B's column sums over its k rows are written there as well (n floats).
 */
export function heapProduct(h: HeapCall, a: HeapOperand, b: HeapOperand, c: number, m: number, k: number, n: number, bias?: number, tri = 0, bSums = 0): void {
  const pack = h.pack(k); // before the call: an allocation may grow the heap
  h.ex.matmul(a.at, b.at, c, m, k, n, bias ?? 0, bias === undefined ? 0 : 1, a.row, a.col, b.row, b.col, pack, tri, 4 * n, bSums);
}

/**
 * Transposes the row-major float32 (r, c) at byte offset src into (c, r) at byte offset dst:
 * heapKernels.wat's SIMD tiles where h is loaded and r, c are multiples of 4, else a JS loop
 * (which reads the heap's current view: it can grow, and its views be replaced, between calls).
 */
export function transposeOnHeap(be: WasmBackend, h: HeapCall | undefined, src: number, r: number, c: number, dst: number): void {
  if (h !== undefined && r % 4 === 0 && c % 4 === 0) h.ex.transpose(src, dst, 1, r, c, 1);
  else transposeInto(be.wasm.HEAPF32, src >> 2, r, c, be.wasm.HEAPF32, dst >> 2);
}

/** Whether heapProduct takes an (m, ·)·(·, n) product: every non-empty one. */
export function heapProductFits(m: number, n: number): boolean {
  return m > 0 && n > 0;
}

/** Whether the current backend runs the heap kernels (wasm, with its memory reachable). */
export function heapKernelsAvailable(): boolean {
  return tf.getBackend() === 'wasm' && current(tf.backend()) !== undefined;
}

let sharedCompiled: WebAssembly.Module | null | undefined;

/**
 * updateKernels.wat instantiated on a shared WebAssembly.Memory of the caller's (the data-parallel
 * workers' flat buffers; no tfjs backend involved): the module variant that imports a shared
 * memory. Undefined where the engine cannot compile or link it (then callers run their JS loops).
 */
export function updateKernelsOn(memory: WebAssembly.Memory): UpdateExports | undefined {
  if (sharedCompiled === undefined) {
    try {
      sharedCompiled = new WebAssembly.Module(decodeBase64(UPDATE_KERNELS_SHARED_WASM_BASE64));
    } catch {
      sharedCompiled = null;
    }
  }
  if (sharedCompiled === null) return undefined;
  try {
    return new WebAssembly.Instance(sharedCompiled, { env: { memory } }).exports as unknown as UpdateExports;
  } catch {
    return undefined; // e.g. a memory that is not shared
  }
}

/** Byte offsets, on the kernels' memory, of element 0 of each of AdamWArrays' arrays. */
export type AdamWOffsets = { readonly [K in keyof AdamWArrays]: number };

/**
 * AdamW over elements [lo, hi) of seven float32 arrays on `ex`'s memory (element 0 of each at the
 * byte offsets `at`): updateKernels.wat's adamw up to a multiple of 4 elements, then
 * ops/adamwRange.ts, the same float32 arithmetic, on `arrays()` (views of the same memory, asked
 * for only when elements are left).
 */
export function adamwOnMemory(ex: UpdateExports, at: AdamWOffsets, arrays: () => AdamWArrays, lo: number, hi: number, s: AdamWScalars): void {
  const b = 4 * lo;
  const n = hi - lo;
  ex.adamw(at.p + b, at.m + b, at.v + b, at.g + b, at.po + b, at.mo + b, at.vo + b, n, s.scale, s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, s.sqrtBc2, s.eps, s.stepSize, s.keep);
  if (n % 4 !== 0) adamwRange(arrays(), hi - (n % 4), hi, s);
}
