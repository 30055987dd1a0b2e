import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReplicaInit, StepRequest } from './messages.js';
import type { ReplicaThread, SpawnReplica, ThreadEvent } from './thread.js';

/**
 * Replica threads on Node's worker_threads. From dist/ the entry is the compiled worker.js
 * beside this file. From the TypeScript sources (tsx, vitest) it is worker.ts, which a worker
 * cannot load by itself: tsx's --import flag, though inherited, does not hook a worker's own
 * entry on Node 20, so the thread starts from a two-line script that registers tsx's ESM
 * loader and then imports worker.ts — the same sources the main thread runs, under either runner.
 */
const HERE = import.meta.url;
const FROM_SOURCE = HERE.endsWith('.ts');

let entryOverride: URL | null = null;
let live = 0;

/** Test hook: run replicas from another entry file (a fault-injecting wrapper); null restores. */
export function setWorkerEntry(entry: URL | null): void {
  entryOverride = entry;
}

/** Replica threads started and not yet exited, in this process. */
export function liveWorkerThreads(): number {
  return live;
}

/** file: URL of tsx's ESM register API (its package "exports" offer it to import only). */
function tsxApi(): string {
  try {
    const pkg = createRequire(HERE).resolve('tsx/package.json');
    return pathToFileURL(pkg.replace(/package\.json$/, 'dist/esm/api/index.mjs')).href;
  } catch {
    throw new Error(
      'workers: running tinygpt from its TypeScript sources needs the package tsx to load worker threads; ' +
        'install it (npm install --save-dev tsx), run the built dist/, or set workers: 1.',
    );
  }
}

/** A Worker for `entry`: directly for JavaScript, through tsx's register() for TypeScript. */
function makeWorker(entry: URL, init: ReplicaInit): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: init });
  const script =
    `import(${JSON.stringify(tsxApi())})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(script, { eval: true, workerData: init, execArgv: [] });
}

/** Starts one replica on a Node worker thread. */
export const spawnNodeReplica: SpawnReplica = (init: ReplicaInit, onEvent: (event: ThreadEvent) => void): ReplicaThread => {
  const entry = entryOverride ?? new URL(FROM_SOURCE ? './worker.ts' : './worker.js', HERE);
  const worker = makeWorker(entry, init);
  live += 1;
  let exited = false;
  const gone = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      exited = true;
      live -= 1;
      resolve();
      onEvent({ kind: 'exit', code });
    });
  });
  // Referenced only while the main thread awaits an answer (the build, then each step): an idle
  // pool that is never disposed must not keep the process alive, a busy one must.
  worker.on('message', (data: unknown) => {
    worker.unref();
    onEvent({ kind: 'message', data });
  });
  worker.on('error', (error: unknown) => onEvent({ kind: 'error', error }));
  return {
    post: (message: StepRequest) => {
      worker.ref();
      worker.postMessage(message);
    },
    terminate: async () => {
      if (!exited) await worker.terminate();
      await gone;
    },
  };
};
