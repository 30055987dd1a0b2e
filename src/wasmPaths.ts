import { setWasmPaths as tfSetWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** A directory prefix, or a full URL per binary name (tfjs-backend-wasm's setWasmPaths argument). */
export type WasmPathsArg = Parameters<typeof tfSetWasmPaths>[0];

/** Where the page's wasm binaries are, as absolute URLs, and how tfjs fetches them. */
export interface WasmPaths {
  readonly prefixOrFileMap: WasmPathsArg;
  readonly usePlatformFetch: boolean;
}

let recorded: WasmPaths | undefined;

/**
 * tfjs-backend-wasm's setWasmPaths (call it before setBackend('wasm')), which also remembers the
 * paths: tfjs keeps them private, and a data-parallel Web Worker (train/parallel/webWorker.ts)
 * must fetch the same binaries — bundlers copy them under hashed names that only the page knows.
 */
export function setWasmPaths(prefixOrFileMap: WasmPathsArg, usePlatformFetch = false): void {
  tfSetWasmPaths(prefixOrFileMap, usePlatformFetch);
  recorded = { prefixOrFileMap: absolute(prefixOrFileMap), usePlatformFetch };
}

/** The paths given to {@link setWasmPaths}, or undefined when it was never called. */
export function wasmPathsSet(): WasmPaths | undefined {
  return recorded;
}

/**
 * Relative paths resolved against the page, now: a worker would resolve them against its own
 * script, which a bundler puts elsewhere. Outside a page (Node) they are kept as given.
 */
function absolute(arg: WasmPathsArg): WasmPathsArg {
  // fetch() resolves against the document's base URL (a <base> tag), else the script's location.
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  const base = g.document?.baseURI ?? g.location?.href;
  if (base === undefined) return arg;
  const resolve = (p: string) => new URL(p, base).href;
  // tfjs appends the binary's name to a prefix, so '' must become the base's folder, not the page.
  if (typeof arg === 'string') return resolve(arg === '' ? './' : arg);
  return Object.fromEntries(Object.entries(arg).map(([name, p]) => [name, p === undefined ? p : resolve(p)])) as WasmPathsArg;
}
