import * as tf from '@tensorflow/tfjs-core';

/**
 * The internals of tfjs-backend-wasm 4.22 that tinygpt's own kernels reach into: the Emscripten
 * module's exports (XNNPACK's matMul behind _BatchMatMul, the heap) and the backend's map from
 * tensors to heap offsets. Checked at run time, so another version fails cleanly, not wrongly.
 */

/** The parts of the Emscripten module the kernel calls (all exported by tfjs-backend-wasm 4.22). */
export interface WasmModule {
  _BatchMatMul(
    aId: number,
    aShape: number,
    aRank: number,
    bId: number,
    bShape: number,
    bRank: number,
    transposeA: number,
    transposeB: number,
    outId: number,
  ): void;
  _register_tensor(id: number, size: number, memoryOffset: number): void;
  _dispose_data(id: number): void;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPF32: Float32Array;
  HEAPU32: Uint32Array;
}

/** A tensor's record in BackendWasm.dataIdMap: its id on the module side, heap offset and reference count. */
export interface HeapEntry {
  id: number;
  memoryOffset: number;
  refCount: number;
}

/** The parts of tfjs-backend-wasm's BackendWasm the kernel uses. */
export interface WasmBackend {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): HeapEntry | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

export function isWasmBackend(b: unknown): b is WasmBackend {
  if (b == null || typeof b !== 'object') return false;
  const r = b as Record<string, unknown>;
  const m = r.wasm as Record<string, unknown> | null | undefined;
  return (
    typeof r.dataIdNextNumber === 'number' &&
    typeof r.makeOutput === 'function' &&
    m != null &&
    ['_BatchMatMul', '_register_tensor', '_dispose_data', '_malloc', '_free'].every((f) => typeof m[f] === 'function')
  );
}

/** What a JS kernel on the wasm heap needs: allocating outputs and typed views of tensors. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export function isWasmHeapBackend(b: unknown): b is WasmHeapBackend {
  if (b == null || typeof b !== 'object') return false;
  const r = b as Record<string, unknown>;
  return typeof r.makeOutput === 'function' && typeof r.typedArrayFromHeap === 'function';
}

/**
 * True when the current backend is wasm and passes `guard` (it has the internals the kernel
 * uses); registers the kernel with the wasm backend on first use.
 */
export function wasmKernelReady(kernelName: string, kernelFunc: tf.KernelFunc, guard: (backend: unknown) => boolean): boolean {
  if (tf.getBackend() !== 'wasm' || !guard(tf.backend())) return false;
  registerWasmKernels({ [kernelName]: kernelFunc });
  return true;
}

/** Registers each kernel of `kernels` (name → kernel function) with the wasm backend, unless it already is. */
export function registerWasmKernels(kernels: Readonly<Record<string, unknown>>): void {
  for (const [kernelName, kernelFunc] of Object.entries(kernels)) {
    if (tf.getKernel(kernelName, 'wasm') === undefined) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
  }
}

/** The current backend when it is wasm with the internals above, else undefined. */
export function currentWasmBackend(): WasmBackend | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const b = tf.backend();
  return isWasmBackend(b) ? b : undefined;
}

/** The heap byte offset of a tensor's data on the wasm backend. */
export function heapOffset(be: WasmBackend, t: tf.TensorInfo): number {
  const entry = be.dataIdMap.get(t.dataId);
  if (entry === undefined) throw new Error('tensor is not on the wasm backend (or was disposed).');
  return entry.memoryOffset;
}
