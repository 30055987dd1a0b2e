import * as tf from '@tensorflow/tfjs-core';

/**
 * cos(pθ_i) and sin(pθ_i), θ_i = base^(−2i/d), for p < maxLen and i < d/2: (maxLen, d/2) each.
 * With linear scaling s (HF rope_scaling "linear"), position p rotates as p/s.
 */
export function ropeTables(headDim: number, maxLen: number, base: number, scale = 1): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(maxLen * half);
  const sin = new Float32Array(maxLen * half);
  for (let p = 0; p < maxLen; p++) {
    for (let i = 0; i < half; i++) {
      const angle = (p / scale) * Math.pow(base, (-2 * i) / headDim); // computed in float64, stored as float32
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * Rotary position embedding (Su et al. 2021, RoFormer), in the "rotate half" layout that
 * Llama and Gemma use: feature i pairs with feature i + d/2, and the pair at position p is
 * rotated by the angle p·θ_i with θ_i = base^(−2i/d):
 *   x'_i = x_i cos(pθ_i) − x_{i+d/2} sin(pθ_i),   x'_{i+d/2} = x_{i+d/2} cos(pθ_i) + x_i sin(pθ_i).
 * A rotation keeps norms, and q_m·k_n then depends on positions only through m − n.
 */
export class RotaryEmbedding {
  /** cos(pθ_i) for p < maxLen, i < d/2: (maxLen, d/2). */
  readonly cos: tf.Tensor2D;
  /** sin(pθ_i): (maxLen, d/2). */
  readonly sin: tf.Tensor2D;

  constructor(
    readonly headDim: number,
    readonly maxLen: number,
    readonly base = 10000,
    readonly scale = 1,
  ) {
    if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
      throw new Error(`RoPE needs an even head dimension >= 2, got ${headDim}: choose headDim as a multiple of 2.`);
    }
    if (!(base > 0)) throw new Error(`RoPE base (ropeTheta) must be > 0, got ${base}.`);
    const half = headDim / 2;
    if (!(scale > 0)) throw new Error(`RoPE scale (ropeScale) must be > 0, got ${scale}.`);
    const { cos, sin } = ropeTables(headDim, maxLen, base, scale);
    this.cos = tf.tensor2d(cos, [maxLen, half]); // (maxLen, d/2)
    this.sin = tf.tensor2d(sin, [maxLen, half]); // (maxLen, d/2)
  }

  /** Rotates x (..., T, d) whose rows sit at positions offset .. offset + T − 1. */
  apply<T extends tf.Tensor>(x: T, offset = 0): T {
    const r = x.rank;
    const t = x.shape[r - 2];
    const d = x.shape[r - 1];
    if (d !== this.headDim) throw new Error(`RoPE built for head dimension ${this.headDim}, got ${d}.`);
    if (offset < 0 || offset + t > this.maxLen) {
      throw new Error(`RoPE positions ${offset}..${offset + t - 1} exceed the table of ${this.maxLen}; raise blockSize.`);
    }
    return tf.tidy(() => {
      const half = d / 2;
      const cos = tf.slice(this.cos, [offset, 0], [t, half]); // (T, d/2)
      const sin = tf.slice(this.sin, [offset, 0], [t, half]); // (T, d/2)
      const [x1, x2] = tf.split(x, 2, -1); // (..., T, d/2) each
      const out1 = tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)); // (..., T, d/2)
      const out2 = tf.add(tf.mul(x2, cos), tf.mul(x1, sin)); // (..., T, d/2)
      return tf.concat([out1, out2], -1) as T; // (..., T, d)
    });
  }

  dispose(): void {
    this.cos.dispose();
    this.sin.dispose();
  }
}
