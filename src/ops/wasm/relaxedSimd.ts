/**
 * Whether this engine compiles WebAssembly's relaxed SIMD (f32x4.relaxed_madd: a fused multiply-add
 * where the CPU has FMA), the feature heapKernels.wat's fused variant needs. Relaxed SIMD is part of
 * WebAssembly 3.0 and on by default in Chrome 114+ and Node 22+; Node 20's V8 has it behind
 * --experimental-wasm-relaxed-simd, which this turns on (process-wide, so worker threads share it)
 * when `probe` does not validate. TINYGPT_RELAXED_SIMD=0 opts out: the kernels then give
 * XNNPACK's sums bit for bit, at ~0.7x the speed of their products.
 */
type V8Flags = { setFlagsFromString(flags: string): void };
type NodeProcess = { env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown };

let answer: boolean | undefined;

export function relaxedSimdAvailable(probe: Uint8Array<ArrayBuffer>): boolean {
  if (answer !== undefined) return answer;
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (proc?.env?.TINYGPT_RELAXED_SIMD === '0') return (answer = false);
  if (WebAssembly.validate(probe)) return (answer = true);
  // Node 20.16+ hands out its built-ins without an import (so browser bundles see no node: module).
  const v8 = proc?.getBuiltinModule?.('v8') as V8Flags | undefined;
  if (v8 === undefined) return (answer = false);
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return (answer = WebAssembly.validate(probe));
}
