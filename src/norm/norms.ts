import type * as tf from '@tensorflow/tfjs-core';
import type { NormKind } from '../config/config.js';
import type { Module } from '../util/params.js';
import { LayerNorm } from './layerNorm.js';
import { RMSNorm } from './rmsNorm.js';

/** A norm over the model width: LayerNorm or RMSNorm, both (N, C) → (N, C). */
export interface Norm extends Module {
  forward(x: tf.Tensor2D): tf.Tensor2D;
}

/** The norm a config asks for; a LayerNorm carries the offset β when the model has biases, RMSNorm never does. */
export function makeNorm(kind: NormKind, size: number, eps: number, bias: boolean): Norm {
  return kind === 'rmsnorm' ? new RMSNorm(size, eps) : new LayerNorm(size, eps, bias);
}
