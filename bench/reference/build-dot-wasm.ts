/**
 * Assembles src/ops/dot/dot.wat (hand-written WebAssembly text) into src/ops/dot/dotWasm.ts, the
 * module's bytes as base64, so the library needs no assembler at run time. Run after editing the
 * .wat; test/dot-engine.test.ts fails while the two disagree.
 *
 *   npx tsx bench/reference/build-dot-wasm.ts
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWasmModule } from './assembleDot.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/ops/dot');
await writeWasmModule(dir, 'dot.wat', 'dotWasm.ts', 'DOT_WASM_BASE64', 'bench/reference/build-dot-wasm.ts');
