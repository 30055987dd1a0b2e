/**
 * Assembles src/ops/wasm/heapKernels.wat (hand-written WebAssembly text) into
 * src/ops/wasm/heapKernelsWasm.ts, the module's bytes as base64, so the library needs no assembler
 * at run time. Run after editing the .wat; test/heap-kernels.test.ts fails while the two disagree.
 *
 *   npx tsx bench/reference/build-heap-wasm.ts
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWasmModule } from './assembleDot.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/ops/wasm');
await writeWasmModule(dir, 'heapKernels.wat', 'heapKernelsWasm.ts', 'HEAP_KERNELS_WASM_BASE64', 'bench/reference/build-heap-wasm.ts');
