import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core alone registers no gradients: tinygpt registers those its ops record (src/grad).
import './grad/register.js';

/** Backends tinygpt knows: tfjs-node's native TensorFlow, wasm (XNNPACK, SIMD) and pure-JS cpu. */
export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

const KNOWN: readonly BackendName[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/** tfjs-node is an optional dependency: it registers the 'tensorflow' backend when it loads. */
async function tryLoadNode(): Promise<boolean> {
  if (tf.findBackendFactory('tensorflow')) return true;
  try {
    // A variable specifier keeps bundlers and tsc from insisting that the package exists.
    const name = '@tensorflow/tfjs-node';
    await import(/* @vite-ignore */ name);
    return tf.findBackendFactory('tensorflow') != null;
  } catch {
    return false;
  }
}

type Listener = (...args: unknown[]) => void;

/**
 * The wasm backend's Emscripten glue installs process-wide 'uncaughtException' and
 * 'unhandledRejection' handlers that rethrow, so Node reports any later error of the user's
 * at the glue's one-line, 30 kB source. Dropping the handlers it added restores Node's own report.
 */
function withoutGlueHandlers<T>(run: () => Promise<T>): Promise<T> {
  if (typeof process === 'undefined' || typeof process.listeners !== 'function') return run();
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  const listeners = (e: (typeof events)[number]) => process.listeners(e as 'uncaughtException') as Listener[];
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  return run().finally(() => {
    for (const e of events) {
      for (const l of listeners(e)) {
        if (!before.get(e)!.has(l)) process.removeListener(e as 'uncaughtException', l);
      }
    }
  });
}

/** Why the last trySet failed (tfjs reports a failed backend start as a console error or a throw). */
let lastFailure = '';

async function trySet(name: string): Promise<boolean> {
  // The wasm backend on one thread, everywhere (Node's already is). In a cross-origin-isolated
  // page tfjs would load its threaded binary, whose pthreads run its glue's source text from a
  // Blob: once a bundler has minified that glue it no longer runs alone, and setBackend never
  // settles. tinygpt spreads training over cores with its own replica threads instead.
  if (name === 'wasm') tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  try {
    const ok = await withoutGlueHandlers(() => tf.setBackend(name));
    lastFailure = ok ? '' : 'it did not initialise';
    return ok;
  } catch (e) {
    lastFailure = e instanceof Error ? e.message : String(e);
    return false;
  }
}

/**
 * Selects the tfjs backend and returns the name of the one in use.
 * 'auto' prefers tfjs-node, then wasm, then cpu. The environment variable TINYGPT_BACKEND,
 * when set, overrides the argument (so a test run or a CI job can pin one).
 */
export async function setBackend(name: BackendName = 'auto'): Promise<string> {
  const env = typeof process !== 'undefined' ? process.env?.TINYGPT_BACKEND : undefined;
  const wanted = (env && env.length > 0 ? env : name) as BackendName;
  if (!KNOWN.includes(wanted)) {
    throw new Error(
      `Unknown backend "${wanted}"${env ? ' (from TINYGPT_BACKEND)' : ''}: use one of ${KNOWN.join(', ')}.`,
    );
  }
  if (wanted === 'auto') {
    if ((await tryLoadNode()) && (await trySet('tensorflow'))) return tf.getBackend();
    if (await trySet('wasm')) return tf.getBackend();
    const why = lastFailure;
    if (await trySet('cpu')) {
      // Not silent: the cpu backend is several times slower, and in a browser the usual cause is
      // .wasm files the page cannot fetch (README: "In a browser app").
      console.warn(`tinygpt: the wasm backend did not start (${why}); using the slower cpu backend. In a browser, serve the .wasm files and call setWasmPaths.`);
      return tf.getBackend();
    }
    throw new Error('No tfjs backend could be initialised (tried tensorflow, wasm, cpu).');
  }
  if (wanted === 'tensorflow' && !(await tryLoadNode())) {
    throw new Error(
      'Backend "tensorflow" needs the optional package @tensorflow/tfjs-node, which is not installed ' +
        'or failed to load: install it, or use --backend wasm.',
    );
  }
  if (!(await trySet(wanted))) {
    throw new Error(`Backend "${wanted}" failed to initialise: try --backend cpu.`);
  }
  return tf.getBackend();
}
