import * as tf from '@tensorflow/tfjs-core';
import { overwriteOnHeap } from '../../ops/wasm/heapCopy.js';

/**
 * Where each weight lives in one flat Float32 buffer. The main thread and every replica derive
 * the same layout from the model's namedWeights() order, so a weight, its gradient and its slot
 * in shared memory are found by one offset and no names cross threads per step.
 */

/** One weight's place in the flat buffer. */
export interface LayoutEntry {
  /** Canonical weight name (e.g. "h.0.attn.c_attn.weight"). */
  readonly name: string;
  /** Tensor shape. */
  readonly shape: readonly number[];
  /** First element in the flat buffer. */
  readonly offset: number;
  /** Number of elements (product of shape). */
  readonly size: number;
}

/** The whole flat layout: entries in namedWeights() order and the total element count. */
export interface FlatLayout {
  /** Entries in order; offsets are increasing and contiguous. */
  readonly entries: readonly LayoutEntry[];
  /** Sum of all sizes. */
  readonly total: number;
}

/** Lays out weights given as (name, shape) pairs back to back. */
export function flatLayout(weights: Iterable<readonly [string, readonly number[]]>): FlatLayout {
  const entries: LayoutEntry[] = [];
  let offset = 0;
  for (const [name, shape] of weights) {
    const size = shape.reduce((a, b) => a * b, 1);
    entries.push({ name, shape: [...shape], offset, size });
    offset += size;
  }
  return { entries, total: offset };
}

/**
 * Checks that a replica's weights match the main model's layout, naming the first difference:
 * a replica built from a config that does not reproduce the model would train a different net.
 */
export function checkSameLayout(main: FlatLayout, replica: FlatLayout): void {
  const n = Math.max(main.entries.length, replica.entries.length);
  for (let i = 0; i < n; i++) {
    const a = main.entries[i];
    const b = replica.entries[i];
    if (a === undefined || b === undefined || a.name !== b.name || a.shape.join(',') !== b.shape.join(',')) {
      const show = (e: LayoutEntry | undefined) => (e ? `"${e.name}" [${e.shape.join(', ')}]` : 'nothing');
      throw new Error(
        `workers: a replica built from model.config has ${show(b)} where the model has ${show(a)} (weight ${i}); ` +
          'data-parallel training needs a GPT whose config rebuilds it exactly — use workers: 1 for other models.',
      );
    }
  }
}

/**
 * Copies the flat buffer into the variables of the same names (a replica before its step, the main
 * thread before anyone reads the model) as new tensors whose values are their own, so no tensor
 * ever aliases memory another thread writes. With `inPlace` (a replica, whose model nothing
 * else reads) a variable that no other tensor shares is overwritten on the wasm heap instead: one
 * memcpy. The main thread never does that: a decoder there knows its weights by data id.
 */
export function assignFromFlat(
  layout: FlatLayout,
  flat: Float32Array,
  weights: ReadonlyMap<string, tf.Variable>,
  inPlace = false,
): void {
  // The wasm backend copies a new tensor's values onto its heap as it makes it, so a view will do
  // there; the cpu backend keeps the array it is given, which must then be a private copy.
  const copies = tf.getBackend() !== 'wasm';
  for (const e of layout.entries) {
    const v = weights.get(e.name) as tf.Variable;
    if (inPlace && overwriteOnHeap(v, flat, e.offset)) continue;
    const values = copies ? flat.slice(e.offset, e.offset + e.size) : flat.subarray(e.offset, e.offset + e.size);
    tf.tidy(() => v.assign(tf.tensor(values, [...e.shape], 'float32'))); // like the weight
  }
}

/** Buffers the main thread shares with the replicas (shared, never copied). */
export interface SharedBuffers {
  /**
   * The weights, AdamW's two moments and one gradient slot per worker, back to back (see
   * {@link flatViews}): a shared WebAssembly.Memory where the engine makes one, so the workers
   * sum and update it with heapKernels.wat's SIMD loops, else a SharedArrayBuffer (JS loops).
   */
  readonly flat: WebAssembly.Memory | SharedArrayBuffer;
  /** Per worker and weight (Int32, [w·entries + e]): 1 when worker w's loss depends on weight e (none: AdamW skips it). */
  readonly used: SharedArrayBuffer;
  /** Per worker (Float64): Σ g² over the worker's span of the summed gradient. */
  readonly norms: SharedArrayBuffer;
  /** Token ids of the step's micro-batches: K slots of x then y, each B·T int32. */
  readonly tokens: SharedArrayBuffer;
}

/** Float32 views of the flat block, and the byte offset of each part in it. */
export interface FlatViews {
  /** The weights: written by the main thread at the start, updated in place by the workers' AdamW. */
  readonly params: Float32Array;
  /** AdamW's first moments, flat like the weights. */
  readonly m: Float32Array;
  /** AdamW's second moments, flat like the weights. */
  readonly v: Float32Array;
  /** One gradient slot per worker; worker w writes slots[w], and slot 0 then holds the sum. */
  readonly slots: readonly Float32Array[];
  /** Byte offsets of params, m, v and slot 0 (slot s at grads + s·4·total). */
  readonly at: { readonly params: number; readonly m: number; readonly v: number; readonly grads: number };
}

/** The SharedArrayBuffer under the flat block. */
function flatBuffer(flat: WebAssembly.Memory | SharedArrayBuffer): SharedArrayBuffer {
  return flat instanceof SharedArrayBuffer ? flat : (flat.buffer as unknown as SharedArrayBuffer);
}

/** Views of the parts of the flat block: params, m, v, then `workers` gradient slots, `total` floats each. */
export function flatViews(flat: WebAssembly.Memory | SharedArrayBuffer, total: number, workers: number): FlatViews {
  const buf = flatBuffer(flat);
  const part = (i: number) => new Float32Array(buf, 4 * i * total, total);
  return {
    params: part(0),
    m: part(1),
    v: part(2),
    slots: Array.from({ length: workers }, (_, w) => part(3 + w)),
    at: { params: 0, m: 4 * total, v: 8 * total, grads: 12 * total },
  };
}

const WASM_PAGE = 65536;
/** Pages a 32-bit wasm memory can have (4 GiB). */
const MAX_PAGES = 65536;

/** A shared wasm memory of at least `bytes`, or a SharedArrayBuffer where one cannot be made. */
function allocFlat(bytes: number): WebAssembly.Memory | SharedArrayBuffer {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  if (pages <= MAX_PAGES) {
    try {
      return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    } catch {
      // no shared wasm memories here (or not this large): plain shared memory and JS loops
    }
  }
  return new SharedArrayBuffer(bytes);
}

/** Allocates the shared buffers for `workers` replicas and `micro` micro-batches of B×T tokens. */
export function allocShared(layout: FlatLayout, workers: number, micro: number, batchTokens: number): SharedBuffers {
  return {
    flat: allocFlat(layout.total * (3 + workers) * Float32Array.BYTES_PER_ELEMENT),
    used: new SharedArrayBuffer(workers * layout.entries.length * Int32Array.BYTES_PER_ELEMENT),
    norms: new SharedArrayBuffer(workers * Float64Array.BYTES_PER_ELEMENT),
    tokens: new SharedArrayBuffer(micro * 2 * batchTokens * Int32Array.BYTES_PER_ELEMENT),
  };
}
