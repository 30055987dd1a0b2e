import type { ReplicaInit, StepRequest } from './messages.js';
import type { ReplicaThread, SpawnReplica, ThreadEvent } from './thread.js';

/** The parts of a DOM Worker used here (the project compiles against Node's types, not the DOM's). */
interface WebWorker {
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onmessageerror: (() => void) | null;
  onerror: ((event: { readonly message?: string; preventDefault(): void }) => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}

/** The page's Worker constructor: a module-scoped name for the global, so the literal form below stays literal. */
declare const Worker: new (url: URL, options: { readonly type: 'module' }) => WebWorker;

let factory: (() => unknown) | null = null;

/** Test hook: start replicas with `make` (it returns a module Worker, e.g. a fault-injecting entry); null restores. */
export function setWebWorkerFactory(make: (() => unknown) | null): void {
  factory = make;
}

/**
 * The worker entry, written as `new Worker(new URL('./webWorker.js', import.meta.url), …)` because
 * that is the form Vite and webpack detect and bundle as a worker: from dist/ it is the compiled
 * webWorker.js beside this file, and from the sources Vite resolves the .js to webWorker.ts.
 */
function makeWorker(): WebWorker {
  if (factory !== null) return factory() as WebWorker;
  return new Worker(new URL('./webWorker.js', import.meta.url), { type: 'module' });
}

/** Why a worker raised 'error': an uncaught exception has a message, a script that did not load has none. */
function errorCause(message: string | undefined): string {
  if (message) return message;
  return 'an error before it ran (its script could not be loaded or parsed; the browser console has the reason)';
}

/**
 * Starts one replica on a module Web Worker, mapping its events onto the pool's ThreadEvent.
 * A Web Worker has no exit event: an uncaught exception arrives as 'error' (the worker lives on
 * until the pool, having failed the step, terminates every thread), and terminate() emits the
 * 'exit' with code 0 that a Node thread would.
 */
export const spawnWebReplica: SpawnReplica = (init: ReplicaInit, onEvent: (event: ThreadEvent) => void): ReplicaThread => {
  let worker: WebWorker;
  try {
    worker = makeWorker();
  } catch (err) {
    // E.g. a SecurityError for a worker script on another origin (a library served from a CDN):
    // reported like a fault of this worker, once the pool has registered the thread.
    queueMicrotask(() => onEvent({ kind: 'error', error: err }));
    return { post: () => {}, terminate: async () => onEvent({ kind: 'exit', code: 0 }) };
  }
  let ended = false;
  worker.onmessage = (event) => onEvent({ kind: 'message', data: event.data });
  worker.onmessageerror = () => onEvent({ kind: 'error', error: 'a reply that could not be deserialized' });
  worker.onerror = (event) => {
    // Handled here (the pool names the worker and the cause), so not an uncaught error of the page too.
    event.preventDefault();
    onEvent({ kind: 'error', error: errorCause(event.message) });
  };
  // The record's SharedArrayBuffers are shared with the worker, not copied (the page is isolated).
  worker.postMessage(init);
  return {
    post: (message: StepRequest) => worker.postMessage(message),
    terminate: async () => {
      if (ended) return;
      ended = true;
      worker.onmessage = worker.onmessageerror = worker.onerror = null;
      worker.terminate();
      onEvent({ kind: 'exit', code: 0 });
    },
  };
};
