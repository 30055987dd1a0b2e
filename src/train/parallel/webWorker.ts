/**
 * Entry of a data-parallel replica in a browser: a module Web Worker that webThread.ts starts.
 * The init record is its first message (the SharedArrayBuffers in it are shared, not copied,
 * which a browser allows only in a cross-origin-isolated page); then serve.ts builds the replica
 * and answers step requests until terminated.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { ReplicaInit, StepRequest } from './messages.js';
import { serveReplica } from './serve.js';

/** The parts of a worker's global scope used here (the project compiles against Node's types, not the DOM's). */
interface WorkerScope {
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.onmessage = ({ data }) => {
  scope.onmessage = null;
  const init = data as ReplicaInit;
  // The page's binaries: this worker's own script sits where a bundler put it, not beside them.
  if (init.wasmPaths !== undefined) setWasmPaths(init.wasmPaths.prefixOrFileMap, init.wasmPaths.usePlatformFetch);
  void serveReplica(init, {
    post: (reply) => scope.postMessage(reply),
    listen: (handle) => {
      scope.onmessage = (event) => handle(event.data as StepRequest);
    },
  });
};
