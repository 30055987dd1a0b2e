import * as tf from '@tensorflow/tfjs-core';
import { MASKED } from '../../src/attention/causalMask.js';
import type { LayerPlan } from '../../src/config/plan.js';
import type { GPT } from '../../src/model/gpt.js';
import * as ref from './ops.js';

/**
 * A second, plain implementation of GPT's forward pass for the parity tests: it reads the model's
 * weights by canonical name and its layer plan, and computes the logits with tfjs's stock ops and
 * the reference ops (no custom gradients, no fused attention, no wasm kernels), so tf.grads of it
 * is tfjs's own autograd. Written from the equations, not from src/.
 */

/** Additive mask (T, T): query i sees keys j ≤ i, and with a window w only i − w < j. */
function maskOf(t: number, window: number): tf.Tensor2D {
  const data = new Float32Array(t * t);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < t; j++) if (j > i || (window > 0 && j <= i - window)) data[i * t + j] = MASKED;
  }
  return tf.tensor2d(data, [t, t]);
}

/** Rotate-half RoPE of x (B, H, T, d) at positions 0..T−1: pairs (i, i + d/2) turned by p/s·base^(−2i/d). */
function rope(x: tf.Tensor4D, base: number, scale: number): tf.Tensor4D {
  const [, , t, d] = x.shape;
  const half = d / 2;
  const cos = new Float32Array(t * half);
  const sin = new Float32Array(t * half);
  for (let p = 0; p < t; p++) {
    for (let i = 0; i < half; i++) {
      const angle = (p / scale) / Math.pow(base, (2 * i) / d);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  const c = tf.tensor2d(cos, [t, half]);
  const s = tf.tensor2d(sin, [t, half]);
  const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]); // (B, H, T, d/2)
  const x2 = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]); // (B, H, T, d/2)
  return tf.concat([tf.sub(tf.mul(x1, c), tf.mul(x2, s)), tf.add(tf.mul(x2, c), tf.mul(x1, s))], 3) as tf.Tensor4D;
}

/** Key/value heads (B, G, T, d) repeated for their A/G query heads: (B, A, T, d), head h reading ⌊h·G/A⌋. */
function repeatHeads(x: tf.Tensor4D, a: number): tf.Tensor4D {
  const [b, g, t, d] = x.shape;
  if (g === a) return x;
  const heads = Array.from({ length: a }, (_, h) => tf.slice(x, [0, Math.floor((h * g) / a), 0, 0], [b, 1, t, d]));
  return tf.concat(heads, 1) as tf.Tensor4D;
}

/** The logits (B·T, V) of `model` for ids (B, T), from its weights alone. */
export function referenceLogits(model: GPT, ids: tf.Tensor2D): tf.Tensor2D {
  const c = model.config;
  const w = model.namedWeights();
  const get = (name: string) => {
    const v = w.get(name);
    if (!v) throw new Error(`reference: the model has no ${name}`);
    return v;
  };
  const opt = (name: string) => w.get(name);
  const [b, t] = ids.shape;
  const d = c.nEmbd;
  const norm = (x: tf.Tensor2D, path: string): tf.Tensor2D =>
    c.norm === 'rmsnorm'
      ? ref.rmsNorm(x, get(`${path}.weight`) as tf.Tensor1D, c.layerNormEps)
      : ref.layerNorm(x, get(`${path}.weight`) as tf.Tensor1D, opt(`${path}.bias`) as tf.Tensor1D | undefined, c.layerNormEps);
  const lin = (x: tf.Tensor2D, path: string) => ref.linear(x, get(`${path}.weight`) as tf.Tensor2D, opt(`${path}.bias`) as tf.Tensor1D | undefined);
  let x = ref.embedding(get('wte.weight') as tf.Tensor2D, tf.reshape(ids, [b * t])); // (B·T, C)
  x = tf.mul(x, model.plan.embedScale);
  if (model.plan.learnedPositions) {
    const pos = tf.slice(get('wpe.weight'), [0, 0], [t, d]); // (T, C)
    x = tf.reshape(tf.add(tf.reshape(x, [b, t, d]), pos), [b * t, d]);
  }
  model.plan.layers.forEach((l: LayerPlan) => {
    const h = `h.${l.index}.`;
    const { nHead: a, nKvHead: g, headDim: hd } = l;
    const heads = (y: tf.Tensor2D, from: number, n: number) =>
      tf.transpose(tf.reshape(tf.slice(y, [0, from * hd], [b * t, n * hd]), [b, t, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D; // (B, n, T, hd)
    const qkv = lin(norm(x, `${h}ln_1`), `${h}attn.c_attn`); // (B·T, (A + 2G)·hd)
    let q = heads(qkv, 0, a);
    let k = heads(qkv, a, g);
    const v = heads(qkv, a + g, g);
    if (l.qkNorm) {
      q = ref.rmsNorm(q, get(`${h}attn.q_norm.weight`) as tf.Tensor1D, l.eps);
      k = ref.rmsNorm(k, get(`${h}attn.k_norm.weight`) as tf.Tensor1D, l.eps);
    }
    if (l.ropeBase !== undefined) {
      q = rope(q, l.ropeBase, l.ropeScale);
      k = rope(k, l.ropeBase, l.ropeScale);
    }
    const scores = tf.add(tf.mul(tf.matMul(q, repeatHeads(k, a), false, true), l.attnScale), maskOf(t, l.window)); // (B, A, T, T)
    const att = tf.matMul(tf.softmax(scores), repeatHeads(v, a)); // (B, A, T, hd)
    const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [b * t, a * hd]) as tf.Tensor2D; // (B·T, A·hd)
    let y = lin(merged, `${h}attn.c_proj`); // (B·T, C)
    if (l.postNorms) y = norm(y, `${h}post_attn_norm`);
    const x2 = tf.add(y, x) as tf.Tensor2D; // t3 = t2 + x
    const z = norm(x2, `${h}ln_2`);
    const pre = lin(z, `${h}mlp.c_fc`); // (B·T, F)
    const act = { gelu: ref.gelu, gelu_tanh: ref.geluTanh, relu: tf.relu, swiglu: ref.silu, geglu: ref.geluTanh }[l.activation];
    const hidden = l.gated ? tf.mul(act(pre), lin(z, `${h}mlp.c_up`)) : act(pre); // (B·T, F)
    let f = lin(hidden as tf.Tensor2D, `${h}mlp.c_proj`); // (B·T, C)
    if (l.postNorms) f = norm(f, `${h}post_mlp_norm`);
    x = tf.add(f, x2) as tf.Tensor2D; // h = t5 + t3
  });
  const head = get(model.plan.tiedHead ? 'wte.weight' : 'lm_head.weight') as tf.Tensor2D; // (V, C)
  return tf.matMul(norm(x, 'ln_f'), head, false, true); // (B·T, V)
}

/** Mean cross-entropy of the reference logits. */
export function referenceLoss(model: GPT, ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  const [b, t] = ids.shape;
  return ref.crossEntropy(referenceLogits(model, ids), tf.reshape(targets, [b * t]));
}
