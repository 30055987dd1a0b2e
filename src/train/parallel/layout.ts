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
 * thread before anyone reads the model) as new tensors made from private copies (slice()), so no
 * tensor ever aliases memory another thread writes. With `inPlace` (a replica, whose model nothing
 * else reads) a variable that no other tensor shares is overwritten on the wasm heap instead: one
 * memcpy. The main thread never does that: a decoder there knows its weights by data id.
 */
export function assignFromFlat(
  layout: FlatLayout,
  flat: Float32Array,
  weights: ReadonlyMap<string, tf.Variable>,
  inPlace = false,
): void {
  for (const e of layout.entries) {
    const v = weights.get(e.name) as tf.Variable;
    if (inPlace && overwriteOnHeap(v, flat, e.offset)) continue;
    tf.tidy(() => v.assign(tf.tensor(flat.slice(e.offset, e.offset + e.size), [...e.shape], 'float32'))); // like the weight
  }
}

/** Buffers the main thread shares with the replicas (SharedArrayBuffer, never copied). */
export interface SharedBuffers {
  /** The weights: written by the main thread at the start, updated in place by the workers' AdamW. */
  readonly weights: SharedArrayBuffer;
  /** AdamW's first moments, flat like the weights. */
  readonly m: SharedArrayBuffer;
  /** AdamW's second moments, flat like the weights. */
  readonly v: SharedArrayBuffer;
  /** One gradient slot per worker: worker w writes elements [w·total, (w+1)·total); slot 0 then holds the sum. */
  readonly grads: SharedArrayBuffer;
  /** Per worker and weight (Int32, [w·entries + e]): 1 when worker w's loss depends on weight e (none: AdamW skips it). */
  readonly used: SharedArrayBuffer;
  /** Per worker (Float64): Σ g² over the worker's span of the summed gradient. */
  readonly norms: SharedArrayBuffer;
  /** Token ids of the step's micro-batches: K slots of x then y, each B·T int32. */
  readonly tokens: SharedArrayBuffer;
}

/** Allocates the shared buffers for `workers` replicas and `micro` micro-batches of B×T tokens. */
export function allocShared(layout: FlatLayout, workers: number, micro: number, batchTokens: number): SharedBuffers {
  const f32 = Float32Array.BYTES_PER_ELEMENT;
  return {
    weights: new SharedArrayBuffer(layout.total * f32),
    m: new SharedArrayBuffer(layout.total * f32),
    v: new SharedArrayBuffer(layout.total * f32),
    grads: new SharedArrayBuffer(layout.total * workers * f32),
    used: new SharedArrayBuffer(workers * layout.entries.length * Int32Array.BYTES_PER_ELEMENT),
    norms: new SharedArrayBuffer(workers * Float64Array.BYTES_PER_ELEMENT),
    tokens: new SharedArrayBuffer(micro * 2 * batchTokens * Int32Array.BYTES_PER_ELEMENT),
  };
}
