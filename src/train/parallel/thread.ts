import type { ReplicaInit, StepRequest } from './messages.js';

/**
 * What the pool needs from a thread, whatever runs it: Node's worker_threads (nodeThread.ts)
 * or, in a browser with SharedArrayBuffer (cross-origin isolated), a Web Worker whose
 * onmessage / onerror map onto the same three events.
 */
export type ThreadEvent =
  /** A message the worker posted (checked with isWorkerReply). */
  | { readonly kind: 'message'; readonly data: unknown }
  /** An exception the worker did not catch. */
  | { readonly kind: 'error'; readonly error: unknown }
  /** The thread ended (code 0 after terminate(); anything else means it died). */
  | { readonly kind: 'exit'; readonly code: number };

/** A running replica thread. */
export interface ReplicaThread {
  /** Sends a step request (a few numbers; structured clone). */
  post(message: StepRequest): void;
  /** Stops the thread; resolves once it is gone. */
  terminate(): Promise<void>;
}

/** Starts a thread that builds a replica from `init` and reports to `onEvent`. */
export type SpawnReplica = (init: ReplicaInit, onEvent: (event: ThreadEvent) => void) => ReplicaThread;

/** One line for an error of unknown type (a thread may throw anything). */
export function causeOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : String(err);
}
