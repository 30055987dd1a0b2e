/**
 * The page's tfjs backend: wasm (XNNPACK) with its .wasm binaries bundled as assets, or the
 * pure-JS cpu backend when WebAssembly cannot start.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/**
 * Selects wasm (or cpu as a fallback) and returns the backend's name. tfjs picks the binary
 * the browser supports (threads need a cross-origin-isolated page, else plain SIMD).
 */
export async function initBackend(): Promise<string> {
  // Vite copies each binary into the build with a hashed name; tfjs needs the map from its names.
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
  });
  if (await tf.setBackend('wasm').catch(() => false)) return tf.getBackend();
  if (await tf.setBackend('cpu')) return tf.getBackend();
  throw new Error('Neither the wasm nor the cpu tfjs backend could start in this browser.');
}
