import type * as tf from '@tensorflow/tfjs-core';
import { GELU_GRID, geluCoefficients } from '../geluTable.js';
import { HEAP_KERNELS_WASM_BASE64 } from './heapKernelsWasm.js';
import { heapOffset, isWasmBackend, type WasmBackend } from './module.js';

/**
 * heapKernels.wat instantiated on tfjs-backend-wasm's own memory: its functions read and write
 * tensors where the backend keeps them, so a kernel costs no copy in or out. One instance per
 * backend module (a new wasm backend has a new memory).
 */
interface HeapExports {
  gelu(x: number, y: number, dy: number, count: number, co: number, scale: number, offset: number, top: number): void;
}

interface Instance {
  readonly ex: HeapExports;
  /** Byte offset of geluTable.ts's coefficients, copied onto the heap once. */
  readonly geluTable: number;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<object, Instance | null>();

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
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
    compiled ??= new WebAssembly.Module(decodeBase64(HEAP_KERNELS_WASM_BASE64));
    const ex = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as HeapExports;
    const co = geluCoefficients();
    const geluTable = be.wasm._malloc(8 * co.length); // kept for the backend's lifetime
    new Float64Array(memory.buffer, geluTable, co.length).set(co);
    return { ex, geluTable };
  } catch {
    return null; // e.g. a shared (threaded) memory the module's import does not declare: JS kernels then run
  }
}

/** The instance on the current backend's heap, or undefined off wasm or where it cannot load. */
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
 * available on this backend.
 */
export function heapGelu(backend: unknown, x: tf.TensorInfo, y: tf.TensorInfo, dy: tf.TensorInfo): boolean {
  const c = current(backend);
  if (c === undefined) return false;
  const n = x.shape.reduce((a, b) => a * b, 1);
  const at = (t: tf.TensorInfo) => heapOffset(c.be, t);
  c.inst.ex.gelu(at(x), at(y), at(dy), n, c.inst.geluTable, GELU_GRID.scale, GELU_GRID.offset, GELU_GRID.top);
  return true;
}
