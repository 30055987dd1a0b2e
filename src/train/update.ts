import * as tf from '@tensorflow/tfjs-core';
import type { AdamW } from './adamw.js';
import type { AccumulatedGradients } from './accumulate.js';
import { globalNormScale, heapNormScale, type NormScale } from './clip.js';

/** What one optimizer step leaves to read: the mean loss and, when clipping, the global gradient norm. */
export interface StepTensors {
  readonly loss: tf.Scalar;
  readonly norm: tf.Scalar | null;
}

/**
 * The update every trainer shares after its gradients are summed: clip to a global norm of
 * `gradClip` (0: none), one AdamW step at rate lr, and free the gradients. Nothing is read from
 * the device; the caller owns the returned scalars (see {@link readStep}).
 */
export function applyUpdate(optimizer: AdamW, { grads, loss }: AccumulatedGradients, gradClip: number, lr: number): StepTensors {
  let clip: NormScale | null = null;
  let norm: tf.Scalar | null = null;
  try {
    // On wasm the norm and factor are read off the heap as numbers, with no kernels at all; else
    // they stay on the device. Either way the factor goes into the update itself (AdamW.step's
    // gradScale): no clipped copies.
    const onHeap = gradClip > 0 ? heapNormScale(grads, gradClip) : undefined;
    if (gradClip > 0 && onHeap === undefined) clip = globalNormScale(grads, gradClip);
    optimizer.step(grads, lr, onHeap?.scale ?? clip?.scale);
    norm = onHeap === undefined ? (clip?.norm ?? null) : tf.scalar(onHeap.norm);
  } catch (err) {
    tf.dispose([loss, clip?.norm ?? [], ...grads.values()]);
    throw err;
  } finally {
    clip?.scale.dispose();
  }
  tf.dispose([...grads.values()]);
  return { loss, norm };
}

/** Reads and frees a step's loss and gradient norm (the one sync per log interval). */
export async function readStep(out: StepTensors): Promise<[number, number | null]> {
  try {
    const loss = (await out.loss.data())[0];
    const norm = out.norm === null ? null : (await out.norm.data())[0];
    return [loss, norm];
  } finally {
    tf.dispose([out.loss, out.norm ?? []]);
  }
}
