/**
 * Assembles src/ops/wasm/heapKernels.wat (hand-written WebAssembly text) into
 * src/ops/wasm/heapKernelsWasm.ts, the module's bytes as base64, so the library needs no assembler
 * at run time, and a second module from the same text whose matrix tiles multiply-accumulate
 * with relaxed SIMD's fused f32x4.relaxed_madd (heapKernels.ts loads it where the engine has
 * relaxed SIMD); then updateKernels.wat (AdamW and the workers' gradient sum) into
 * updateKernelsWasm.ts, with a variant that imports a shared memory (the workers run it on their
 * flat buffers); then softmaxKernels.wat (attention's softmax, forward and backward) into
 * softmaxKernelsWasm.ts, and normKernels.wat (LayerNorm) into normKernelsWasm.ts. Run after editing a .wat; test/heap-kernels.test.ts fails while they disagree.
 *
 *   npx tsx bench/reference/build-heap-wasm.ts
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuseMultiplyAdds, sharedMemory, writeWasmModule } from './assembleDot.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/ops/wasm');
/** matmul's 2×16 tile: eight accumulators. */
const HEAP_TILE_MULTIPLY_ADDS = 8;

await writeWasmModule(dir, 'heapKernels.wat', 'heapKernelsWasm.ts', 'HEAP_KERNELS_WASM_BASE64', 'bench/reference/build-heap-wasm.ts', (wat) => [
  {
    name: 'HEAP_KERNELS_FMA_WASM_BASE64',
    doc: 'heapKernels.wat with its tile multiply-adds fused (relaxed SIMD), base64.',
    wat: fuseMultiplyAdds(wat, HEAP_TILE_MULTIPLY_ADDS),
  },
]);

await writeWasmModule(dir, 'updateKernels.wat', 'updateKernelsWasm.ts', 'UPDATE_KERNELS_WASM_BASE64', 'bench/reference/build-heap-wasm.ts', (wat) => [
  {
    name: 'UPDATE_KERNELS_SHARED_WASM_BASE64',
    doc: 'updateKernels.wat on a shared memory (the data-parallel workers\' flat buffers), base64.',
    wat: sharedMemory(wat),
  },
]);

await writeWasmModule(dir, 'softmaxKernels.wat', 'softmaxKernelsWasm.ts', 'SOFTMAX_KERNELS_WASM_BASE64', 'bench/reference/build-heap-wasm.ts');
await writeWasmModule(dir, 'normKernels.wat', 'normKernelsWasm.ts', 'NORM_KERNELS_WASM_BASE64', 'bench/reference/build-heap-wasm.ts');
