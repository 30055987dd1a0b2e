import * as tf from '@tensorflow/tfjs-core';

/** One layer's cached keys and values, (B, nKv, S, hs) each. */
export interface LayerKV {
  readonly k: tf.Tensor4D;
  readonly v: tf.Tensor4D;
}

/**
 * Keys and values of the positions already processed, per layer, so a generation step feeds
 * only its new token: attention of the new query over all S + 1 keys needs the old k, v, which
 * do not change when a token is appended (causality). The cache owns its tensors.
 */
export class KVCache {
  private readonly layers: Array<LayerKV | undefined>;

  constructor(readonly nLayer: number) {
    this.layers = new Array<LayerKV | undefined>(nLayer).fill(undefined);
  }

  /** Positions cached (S) before the current step: the last layer is appended to last. */
  get length(): number {
    return this.lengthOf(this.nLayer - 1);
  }

  /** Positions cached at one layer (mid-step, earlier layers already hold the new ones). */
  lengthOf(layer: number): number {
    return this.layers[layer]?.k.shape[2] ?? 0;
  }

  /** Layer i's cache, or undefined before the first step. */
  get(layer: number): LayerKV | undefined {
    return this.layers[layer];
  }

  /**
   * Appends the new positions' k, v (B, nKv, T, hs) to layer i and returns the full (B, nKv, S + T, hs)
   * pair. Safe inside tf.tidy: the stored tensors are kept, the replaced ones freed.
   */
  append(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): LayerKV {
    const old = this.layers[layer];
    const next: LayerKV = old
      ? { k: tf.concat([old.k, k], 2), v: tf.concat([old.v, v], 2) } // (B, nKv, S + T, hs)
      : { k: k.clone(), v: v.clone() }; // clones, so the caller's tensors keep their own lifetime
    tf.keep(next.k);
    tf.keep(next.v);
    this.layers[layer] = next;
    if (old) tf.dispose([old.k, old.v]);
    return next;
  }

  /** Forgets every position (e.g. before re-reading a shifted context window). */
  reset(): void {
    for (const kv of this.layers) if (kv) tf.dispose([kv.k, kv.v]);
    this.layers.fill(undefined);
  }

  dispose(): void {
    this.reset();
  }
}
