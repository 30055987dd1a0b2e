import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleDot, fuseMultiplyAdds, sharedMemory } from '../bench/reference/assembleDot.js';
import { geluAndDerivative } from '../src/ops/geluTable.js';
import { layerNorm } from '../src/ops/layerNorm.js';
import { scaledMaskedSoftmax, scaledMaskedSoftmaxGrad } from '../src/ops/softmax.js';
import { swapAxes12, transpose2d, transposeLast2 } from '../src/ops/transpose.js';
import { causalMask } from '../src/attention/causalMask.js';
import { wasmSoftmaxAvailable } from '../src/ops/wasm/softmax.js';
import { wasmCrossEntropyAvailable } from '../src/ops/wasm/crossEntropy.js';
import { crossEntropy } from '../src/ops/crossEntropy.js';
import { groupedBatchMatMul } from '../src/ops/wasm/batchMatMul.js';
import { headProducts } from '../src/ops/wasm/headProducts.js';
import { columnSums, linear } from '../src/ops/matmul.js';
import { wasmMatMul, wasmMatMulColumnSums } from '../src/ops/wasm/matMul.js';
import { useAliasingIdentity } from '../src/ops/wasm/aliasIdentity.js';
import { heapGelu, heapKernelsFused } from '../src/ops/wasm/heapKernels.js';
import { wasmLayerNormAvailable } from '../src/ops/wasm/layerNorm.js';
import { HEAP_KERNELS_FMA_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from '../src/ops/wasm/heapKernelsWasm.js';
import { UPDATE_KERNELS_SHARED_WASM_BASE64, UPDATE_KERNELS_WASM_BASE64 } from '../src/ops/wasm/updateKernelsWasm.js';
import { SOFTMAX_KERNELS_WASM_BASE64 } from '../src/ops/wasm/softmaxKernelsWasm.js';
import { NORM_KERNELS_WASM_BASE64 } from '../src/ops/wasm/normKernelsWasm.js';
import { createRng } from '../src/util/rng.js';
import { maxDiff, normals } from './helpers.js';
import * as REFERENCE from './reference/ops.js';

const onWasm = () => tf.getBackend() === 'wasm';

describe('heap kernels (src/ops/wasm/heapKernels.wat)', () => {
  it('ships the bytes that heapKernels.wat assembles to', async () => {
    const wat = readFileSync(join(import.meta.dirname, '../src/ops/wasm/heapKernels.wat'), 'utf8');
    expect(Buffer.from(await assembleDot(wat)).toString('base64')).toBe(HEAP_KERNELS_WASM_BASE64);
    // The fused variant: matmul's 2×16 tile, 8 accumulators = 8 multiply-adds.
    expect(Buffer.from(await assembleDot(fuseMultiplyAdds(wat, 8))).toString('base64')).toBe(HEAP_KERNELS_FMA_WASM_BASE64);
    // updateKernels.wat, and the workers' variant of it: the same text importing a shared memory.
    const update = readFileSync(join(import.meta.dirname, '../src/ops/wasm/updateKernels.wat'), 'utf8');
    expect(Buffer.from(await assembleDot(update)).toString('base64')).toBe(UPDATE_KERNELS_WASM_BASE64);
    expect(Buffer.from(await assembleDot(sharedMemory(update))).toString('base64')).toBe(UPDATE_KERNELS_SHARED_WASM_BASE64);
    const softmax = readFileSync(join(import.meta.dirname, '../src/ops/wasm/softmaxKernels.wat'), 'utf8');
    expect(Buffer.from(await assembleDot(softmax)).toString('base64')).toBe(SOFTMAX_KERNELS_WASM_BASE64);
    expect(atob(SOFTMAX_KERNELS_WASM_BASE64).length).toBeLessThan(4096);
    const norm = readFileSync(join(import.meta.dirname, '../src/ops/wasm/normKernels.wat'), 'utf8');
    expect(Buffer.from(await assembleDot(norm)).toString('base64')).toBe(NORM_KERNELS_WASM_BASE64);
    expect(atob(NORM_KERNELS_WASM_BASE64).length).toBeLessThan(4096);
    // Browsers compile a module synchronously on the main thread only below 4 KB.
    expect(atob(HEAP_KERNELS_WASM_BASE64).length).toBeLessThan(4096);
    expect(atob(HEAP_KERNELS_FMA_WASM_BASE64).length).toBeLessThan(4096);
  });

  it.each([
    [1, 'lower-triangular A'],
    [2, 'upper-triangular A'],
    [3, 'only the lower triangle of C'],
  ] as const)('matmul tri %i (%s) skips exact zeros: the same sums as the whole product', (tri, _what) => {
    // A (37, 37) with the zeros causal attention has (P or dS; their transposes), B (37, 40): three
    // column blocks, odd rows. Skipped terms are 0·b, which add nothing, so the sums are bit-equal;
    // with tri 3 only c ≤ r is compared, and tiles wholly above the diagonal are 0 (no bias).
    const [m, n] = [37, 40];
    const rng = createRng(21);
    const a = Float32Array.from(normals(rng, m * m));
    for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) if ((tri === 1 && c > r) || (tri === 2 && c < r)) a[r * m + c] = 0;
    const b = Float32Array.from(normals(rng, m * n));
    const memory = new WebAssembly.Memory({ initial: 1 });
    const ex = new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(atob(HEAP_KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0))), {
      env: { memory },
    }).exports as { matmul: (...args: number[]) => void };
    const f32 = new Float32Array(memory.buffer);
    f32.set(a, 0);
    f32.set(b, m * m);
    const c = m * m + m * n;
    const pack = 4 * (c + 2 * m * n);
    const run = (mode: number, at: number) => {
      f32.fill(Number.NaN, at, at + m * n);
      ex.matmul(0, 4 * m * m, 4 * at, m, m, n, 0, 0, 4 * m, 4, 4 * n, 4, pack, mode, 4 * n, 0);
      return f32.slice(at, at + m * n);
    };
    const [whole, skipped] = [run(0, c), run(tri, c + m * n)];
    const lower = (x: Float32Array) => Array.from(x).filter((_, i) => tri !== 3 || i % n <= Math.floor(i / n));
    expect(lower(skipped)).toEqual(lower(whole));
    if (tri === 3) {
      // Row 0's third column block (columns 32..39) lies wholly above the diagonal: left at 0.
      expect(Array.from(skipped.slice(32, 40))).toEqual(new Array(8).fill(0));
      expect(skipped.every((v) => !Number.isNaN(v))).toBe(true); // every entry written
    }
  });

  it('the plain and the fused module multiply as in-order float32 sums, unfused and fused', () => {
    // Both modules on a memory of their own, C = A·B for A (7, 37), B (37, 20): one full column
    // block of 16 and a partial one of 4, and a last tile with one row. Plain: each step c = fround(c + fround(x·b)), two
    // roundings. Fused: c = fround(x·b + c), where x·b is exact in double (24 + 24 bits ≤ 53), so
    // the double sum is rounded twice (to 53 bits, then to 24): it can differ from one true
    // rounding by 1 ulp of c at most, hence the 2-ulp-of-|C| bound.
    const [m, k, n] = [7, 37, 20];
    const rng = createRng(11);
    const [a, b] = [Float32Array.from(normals(rng, m * k)), Float32Array.from(normals(rng, k * n))];
    const sums = (fused: boolean) => {
      const out = new Float32Array(m * n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let c = 0;
          for (let kk = 0; kk < k; kk++) c = fused ? Math.fround(a[i * k + kk] * b[kk * n + j] + c) : Math.fround(c + Math.fround(a[i * k + kk] * b[kk * n + j]));
          out[i * n + j] = c;
        }
      }
      return out;
    };
    const run = (b64: string) => {
      const memory = new WebAssembly.Memory({ initial: 1 });
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as { matmul: (...args: number[]) => void };
      const f32 = new Float32Array(memory.buffer);
      f32.set(a, 0);
      f32.set(b, m * k);
      const c = m * k + k * n;
      f32.fill(Number.NaN, c, c + m * n + n); // C and one row past it: no tile writes outside C
      const pack = 4 * (c + m * n + n);
      ex.matmul(0, 4 * m * k, 4 * c, m, k, n, 0, 0, 4 * k, 4, 4 * n, 4, pack, 0, 4 * n, 0);
      expect(f32.slice(c + m * n, c + m * n + n).every(Number.isNaN)).toBe(true);
      return f32.slice(c, c + m * n);
    };
    expect(Array.from(run(HEAP_KERNELS_WASM_BASE64))).toEqual(Array.from(sums(false)));
    // Node 20 validates the fused module once relaxedSimd.ts has set V8's flag (heapKernelsFused does).
    if (!heapKernelsFused()) return;
    const fused = run(HEAP_KERNELS_FMA_WASM_BASE64);
    const ref = sums(true);
    for (let i = 0; i < m * n; i++) expect(Math.abs(fused[i] - ref[i])).toBeLessThanOrEqual(2 * 2 ** -23 * Math.abs(ref[i]) + 1e-30);
    // The fused sums are not the unfused ones: the variant really runs a fused multiply-add.
    expect(maxDiff(fused, sums(false))).toBeGreaterThan(0);
  });

  it.each([4108, 4107, 5, 4])('gelu writes the same float32 values as geluAndDerivative, edge cases included (%i elements)', (count) => {
    // 4108 = 1027 blocks of four; 4107 and 5 end on a block that overlaps the one before; 4 is one block.
    const edge = [0, -0, 1e-30, -1e-30, 7.999, 8, 8.5, -7.999, -8, -8.5, 1e6, -1e6, Infinity, -Infinity, Number.NaN];
    const xs = Float32Array.from([...edge, ...normals(createRng(7), 4093, 3)]).slice(0, count);
    const [y0, d0] = [new Float32Array(xs.length), new Float32Array(xs.length)];
    geluAndDerivative(xs, y0, d0);
    const x = tf.tensor1d(xs);
    const [y, d] = [tf.zeros([xs.length]), tf.zeros([xs.length])];
    const ran = heapGelu(tf.backend(), x, y, d);
    expect(ran).toBe(onWasm()); // the module loads on the wasm backend only
    if (ran) {
      expect(Array.from(y.dataSync())).toEqual(Array.from(y0));
      expect(Array.from(d.dataSync())).toEqual(Array.from(d0));
    }
    tf.dispose([x, y, d]);
  });

  it('gelu leaves fewer than four elements to the JS loop', () => {
    const x = tf.tensor1d([1, -2, 3]);
    const [y, d] = [tf.zeros([3]), tf.zeros([3])];
    expect(heapGelu(tf.backend(), x, y, d)).toBe(false);
    expect(Array.from(y.dataSync())).toEqual([0, 0, 0]); // nothing written
    tf.dispose([x, y, d]);
  });
});

describe('layerNorm (one wasm pass each way, tfjs ops elsewhere)', () => {
  it.each([true, false])('matches tfjs autograd of the plain formula in value and gradients (bias %s)', (bias) => {
    expect(wasmLayerNormAvailable(24)).toBe(onWasm());
    expect(wasmLayerNormAvailable(6)).toBe(false); // not a multiple of 4: tfjs ops
    const rng = createRng(11);
    const [n, c] = [37, 24];
    const x = tf.tensor2d(normals(rng, n * c, 2, 0.5), [n, c]); // (N, C)
    const gamma = tf.tensor1d(normals(rng, c, 1, 1)); // (C)
    const beta = bias ? tf.tensor1d(normals(rng, c)) : undefined; // (C)
    const w = tf.tensor2d(normals(rng, n * c), [n, c]); // (N, C) weights of the loss, so dy is not constant
    const loss = (f: typeof layerNorm) => (...t: tf.Tensor[]) =>
      tf.sum(tf.mul(f(t[0] as tf.Tensor2D, t[1] as tf.Tensor1D, t[2] as tf.Tensor1D | undefined, 1e-5), w));
    const inputs = beta ? [x, gamma, beta] : [x, gamma];
    const before = tf.memory().numTensors;
    const ours = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads(loss(layerNorm))(inputs);
      return [value, ...grads];
    });
    expect(tf.memory().numTensors).toBe(before + ours.length); // nothing else is left behind
    const ref = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads(loss(REFERENCE.layerNorm))(inputs);
      return [value, ...grads];
    });
    ours.forEach((t, i) => expect(maxDiff(t.dataSync(), ref[i].dataSync())).toBeLessThan(2e-5));
    tf.dispose([x, gamma, w, ...(beta ? [beta] : []), ...ours, ...ref]);
  });
});

describe('transposes (SIMD tiles and runs on wasm, tf.transpose elsewhere)', () => {
  const data = (n: number) => Float32Array.from({ length: n }, (_, i) => i * 0.5 - 7);
  it.each([
    [8, 12],
    [4, 4],
    [6, 10], // sides not multiples of 4: tf.transpose
    [64, 128],
  ])('transpose2d (%i, %i) equals tf.transpose', (r, c) => {
    const x = tf.tensor2d(data(r * c), [r, c]); // (R, C)
    const [ours, ref] = [transpose2d(x), tf.transpose(x)]; // (C, R) each
    expect(ours.shape).toEqual([c, r]);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(ref.dataSync()));
    tf.dispose([x, ours, ref]);
  });

  it('transposeLast2 and swapAxes12 equal tf.transpose, and their gradients are the inverse permutations', () => {
    const x3 = tf.tensor3d(data(3 * 8 * 4), [3, 8, 4]); // (G, R, C)
    const x4 = tf.tensor4d(data(2 * 5 * 3 * 6), [2, 5, 3, 6]); // (A, B, C, D)
    const w3 = tf.tensor3d(data(3 * 4 * 8).map((v) => v * v), [3, 4, 8]); // (G, C, R)
    const w4 = tf.tensor4d(data(2 * 3 * 5 * 6).map((v) => Math.sin(v)), [2, 3, 5, 6]); // (A, C, B, D)
    expect(Array.from(transposeLast2(x3).dataSync())).toEqual(Array.from(tf.transpose(x3, [0, 2, 1]).dataSync()));
    expect(Array.from(swapAxes12(x4).dataSync())).toEqual(Array.from(tf.transpose(x4, [0, 2, 1, 3]).dataSync()));
    const before = tf.memory().numTensors;
    const [g3, g4] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.add(tf.sum(tf.mul(transposeLast2(a as tf.Tensor3D), w3)), tf.sum(tf.mul(swapAxes12(b as tf.Tensor4D), w4))),
    )([x3, x4]);
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(Array.from(g3.dataSync())).toEqual(Array.from(tf.transpose(w3, [0, 2, 1]).dataSync()));
    expect(Array.from(g4.dataSync())).toEqual(Array.from(tf.transpose(w4, [0, 2, 1, 3]).dataSync()));
    tf.dispose([x3, x4, w3, w4, g3, g4]);
  });
});

describe('attention softmax (one wasm pass each way, tfjs ops elsewhere)', () => {
  /** softmax(s·x + mask) of one row from the definition: y and y − max in float32 (as every implementation forms them), the rest in double. */
  function rowSoftmax(x: ArrayLike<number>, m: ArrayLike<number>, s: number): number[] {
    const y = Array.from(x, (v, j) => Math.fround(Math.fround(v * Math.fround(s)) + m[j]));
    const top = Math.max(...y);
    const e = y.map((v) => Math.exp(Math.fround(v - top)));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  }

  it.each([
    [16, 16, true, 'causal, T = S'],
    [12, 20, true, 'causal, the last 12 of 20 positions'],
    [16, 16, false, 'whole rows'],
    [8, 10, false, 'S not a multiple of 4 (tfjs ops)'],
  ] as const)('(T %i, S %i, %s) equals softmax(s·x + mask) and autograd of it: %s', (t, n, causal, _what) => {
    expect(wasmSoftmaxAvailable(n)).toBe(onWasm() && n % 4 === 0);
    const g = 5;
    const rng = createRng(3 + t + n);
    // Scores from about −60 to 60: row maxima far from 0, and entries far enough below them that
    // their e^(y − m) are subnormal (or 0) in float32.
    const xs = normals(rng, g * t * n, 20);
    const x = tf.tensor3d(xs, [g, t, n]); // (G, T, S)
    const mask = causal ? causalMask(t, n) : tf.tensor2d(normals(rng, t * n), [t, n]); // (T, S)
    const dP = tf.tensor3d(normals(rng, g * t * n), [g, t, n]); // (G, T, S)
    const scale = 0.7;
    const before = tf.memory().numTensors;
    const p = scaledMaskedSoftmax(x, mask, scale, causal); // (G, T, S)
    const dS = scaledMaskedSoftmaxGrad(dP, p, scale, causal); // (G, T, S)
    expect(tf.memory().numTensors).toBe(before + 2);
    const f = (z: tf.Tensor) => tf.softmax(tf.add(tf.mul(z, scale), mask)); // (G, T, S)
    const dRef = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(f(z), dP)))(x); // (G, T, S)
    expect(maxDiff(dS.dataSync(), dRef.dataSync())).toBeLessThan(1e-5);
    // Against the definition in double: within 1e-6 absolute and, where p > 1e-30, 5e-7 relative
    // (a few float32 ulps: e^r's polynomial, the sum, the quotient).
    const pv = p.dataSync();
    const mv = mask.dataSync();
    let worstRel = 0;
    for (let r = 0; r < g * t; r++) {
      const i = r % t;
      const ref = rowSoftmax(xs.slice(r * n, (r + 1) * n), mv.slice(i * n, (i + 1) * n), scale);
      for (let j = 0; j < n; j++) {
        const got = pv[r * n + j];
        expect(Math.abs(got - ref[j])).toBeLessThan(1e-6);
        if (ref[j] > 1e-30) worstRel = Math.max(worstRel, Math.abs(got - ref[j]) / ref[j]);
        // Masked entries (keys past the diagonal) are exactly 0.
        if (causal && j > n - t + i) expect(got).toBe(0);
      }
    }
    expect(worstRel).toBeLessThan(5e-7);
    tf.dispose([x, mask, dP, p, dS, dRef]);
  });
});

describe('crossEntropy (one wasm pass each way, tfjs ops elsewhere)', () => {
  it.each([65, 8, 5, 3])('V %i: equals the definition in double and autograd of log-softmax', (v) => {
    expect(wasmCrossEntropyAvailable(v)).toBe(onWasm() && v >= 4);
    const n = 13;
    const rng = createRng(40 + v);
    // Logits from about −90 to 90 (row spreads where e^(z − m) is subnormal or 0 in float32).
    const zs = normals(rng, n * v, 30);
    const ys = Int32Array.from({ length: n }, (_, r) => (r * 7) % v);
    ys[4] = v; // outside the vocabulary: an all-zero one-hot row (tfjs's oneHot), so the row adds 0
    const z = tf.tensor2d(zs, [n, v]); // (N, V)
    const y = tf.tensor1d(ys, 'int32'); // (N)
    const before = tf.memory().numTensors;
    const { value, grads } = tf.tidy(() => {
      const r = tf.valueAndGrads((t: tf.Tensor) => crossEntropy(t as tf.Tensor2D, y))([z]);
      return { value: r.value, grads: r.grads };
    });
    expect(tf.memory().numTensors).toBe(before + 2);
    // L = (1/N) Σ_n (ln Σ_j e^{z_nj} − z_n[y_n]) over rows with a target in range, in double.
    let sum = 0;
    const probs: number[][] = [];
    for (let r = 0; r < n; r++) {
      const row = Array.from(zs.slice(r * v, (r + 1) * v));
      const m = Math.max(...row);
      const s = row.reduce((a, b) => a + Math.exp(b - m), 0);
      probs.push(row.map((b) => Math.exp(b - m) / s));
      if (ys[r] < v) sum += m + Math.log(s) - row[ys[r]];
    }
    expect(Math.abs(value.dataSync()[0] - sum / n)).toBeLessThan(2e-6 * Math.max(1, sum / n));
    // ∂L/∂z = (p − onehot)/N: against the same definition and tfjs autograd of the plain formula.
    const g = grads[0].dataSync();
    for (let r = 0; r < n; r++) {
      // (A row without a target in range adds 0 to L: its gradient is 0.)
      const want = (j: number) => (ys[r] < v ? (probs[r][j] - (ys[r] === j ? 1 : 0)) / n : 0);
      for (let j = 0; j < v; j++) expect(Math.abs(g[r * v + j] - want(j))).toBeLessThan(1e-7);
    }
    const ref = tf.tidy(() => tf.grad((t: tf.Tensor) => REFERENCE.crossEntropy(t as tf.Tensor2D, y))(z));
    expect(maxDiff(g, ref.dataSync())).toBeLessThan(1e-7);
    tf.dispose([z, y, value, ...grads, ref]);
  });
});

describe('headProducts (token-major operands and outputs read and written in place)', () => {
  it('fills q·kᵀ, P·v and [dS·k | dSᵀ·q | Pᵀ·dO] as slicing, tf.matMul and concat do', () => {
    // qkv (B, T, 3·nh, hs) = (2, 8, 6, 4): slot part·nh + h of row t. Odd sizes on purpose.
    const [b, t, nh, hs] = [2, 8, 2, 4];
    const rng = createRng(17);
    const x = tf.tensor4d(normals(rng, b * t * 3 * nh * hs), [b, t, 3 * nh, hs]); // (B, T, 3nh, hs)
    const p = tf.tensor3d(normals(rng, b * nh * t * t), [b * nh, t, t]); // (G, T, T)
    const dO = tf.tensor4d(normals(rng, b * t * nh * hs), [b, t, nh, hs]); // (B, T, nh, hs)
    // The reference: slot-major copies (B·nh, T, hs) of each part, then plain batched products.
    const part = (z: tf.Tensor4D, start: number) =>
      tf.reshape(tf.transpose(tf.slice(z, [0, 0, start, 0], [b, t, nh, hs]), [0, 2, 1, 3]), [b * nh, t, hs]) as tf.Tensor3D;
    const [q, k, v, d] = [part(x, 0), part(x, nh), part(x, 2 * nh), part(dO, 0)];
    const tokenMajor = (y: tf.Tensor3D) => tf.transpose(tf.reshape(y, [b, nh, t, hs]), [0, 2, 1, 3]); // (B, T, nh, hs)
    const sel = (group: number, start: number) => ({ group, start });
    const perHead = { outer: b, group: nh, heads: nh, tokenMajor: false };
    const before = tf.memory().numTensors;
    const scores = headProducts([{ a: x, aSlices: sel(3 * nh, 0), b: x, bSlices: sel(3 * nh, nh), transposeB: true, start: 0 }], perHead);
    const out = headProducts([{ a: p, aSlices: sel(nh, 0), b: x, bSlices: sel(3 * nh, 2 * nh), start: 0 }], { ...perHead, tokenMajor: true });
    const grads = headProducts(
      [
        { a: p, aSlices: sel(nh, 0), b: x, bSlices: sel(3 * nh, nh), start: 0 },
        { a: p, aSlices: sel(nh, 0), b: x, bSlices: sel(3 * nh, 0), transposeA: true, start: nh },
        { a: p, aSlices: sel(nh, 0), b: dO, bSlices: sel(nh, 0), transposeA: true, start: 2 * nh },
      ],
      { outer: b, group: 3 * nh, heads: nh, tokenMajor: true },
    );
    expect(tf.memory().numTensors).toBe(before + 3);
    const ref = tf.tidy(() => [
      tf.matMul(q, k, false, true), // (G, T, T)
      tokenMajor(tf.matMul(p, v)), // (B, T, nh, hs)
      tf.concat([tokenMajor(tf.matMul(p, k)), tokenMajor(tf.matMul(p, q, true)), tokenMajor(tf.matMul(p, d, true))], 2), // (B, T, 3nh, hs)
    ]);
    [scores, out, grads].forEach((y, i) => {
      expect(y.shape).toEqual(ref[i].shape);
      expect(maxDiff(y.dataSync(), ref[i].dataSync())).toBeLessThan(1e-5);
    });
    expect(() => headProducts([{ a: p, aSlices: sel(nh, 0), b: x, bSlices: sel(3 * nh, nh), start: nh }], { ...perHead, group: 3 * nh })).toThrow(
      /fill the 6 output slots 2 at a time/,
    );
    tf.dispose([x, p, dO, q, k, v, d, scores, out, grads, ...ref]);
  });
});

describe('wasmMatMulColumnSums (a weight gradient and its bias gradient from one product)', () => {
  it.each([
    [37, 5, 21, true], // xᵀ·dy: A stored (K, M), a partial last column block of 5
    [300, 16, 32, true], // K > 128: Aᵀ copied to scratch first
    [6, 9, 40, false],
  ])('K %i, M %i, N %i (transposeA %s): op(A)·B and Σ_rows B', (k, m, n, tA) => {
    const rng = createRng(k + m + n);
    const a = tf.tensor2d(normals(rng, k * m), tA ? [k, m] : [m, k]); // op(A) (M, K)
    const b = tf.tensor2d(normals(rng, k * n), [k, n]); // (K, N)
    const got = wasmMatMulColumnSums(a, b, tA);
    if (!onWasm()) {
      expect(got).toBeUndefined();
      tf.dispose([a, b]);
      return;
    }
    const [c, sums] = got as [tf.Tensor2D, tf.Tensor1D];
    const ref = tf.matMul(a, b, tA, false); // (M, N)
    expect(c.shape).toEqual([m, n]);
    expect(maxDiff(c.dataSync(), ref.dataSync())).toBeLessThan(1e-4);
    // Σ_rows B in double, against the kernel's float32 row-by-row sums (K roundings at most).
    const bv = b.dataSync();
    const want = Array.from({ length: n }, (_, j) => Array.from({ length: k }, (_, r) => bv[r * n + j]).reduce((x, y) => x + y, 0));
    expect(maxDiff(sums.dataSync(), Float32Array.from(want))).toBeLessThan(2e-5 * Math.sqrt(k));
    tf.dispose([a, b, c, sums, ref]);
  });
});

describe('groupedBatchMatMul (tiled heap product where the sides fit, XNNPACK elsewhere)', () => {
  it.each([
    [8, 12, 16, false, false], // tiled
    [8, 12, 16, true, false],
    [8, 12, 16, false, true],
    [8, 12, 16, true, true],
    [6, 5, 7, false, false], // untiled: XNNPACK
    [4, 1, 8, false, false], // k = 1
  ])('M %i, K %i, N %i, transposeA %s, transposeB %s equals tf.matMul', (m, k, n, tA, tB) => {
    const g = 3;
    const rng = createRng(m * 100 + k);
    const a = tf.tensor3d(normals(rng, g * m * k), tA ? [g, k, m] : [g, m, k]);
    const b = tf.tensor3d(normals(rng, g * k * n), tB ? [g, n, k] : [g, k, n]);
    const ours = groupedBatchMatMul(a, b, { transposeA: tA, transposeB: tB }); // (G, M, N)
    const ref = tf.matMul(a, b, tA, tB); // (G, M, N)
    expect(ours.shape).toEqual([g, m, n]);
    expect(maxDiff(ours.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
    tf.dispose([a, b, ours, ref]);
  });

  it('head-grouped slices: q·kᵀ of a (B·3·nh, T, hs) tensor equals slicing first', () => {
    const [b, nh, t, hs] = [2, 2, 8, 4];
    const x = tf.tensor3d(normals(createRng(5), b * 3 * nh * t * hs), [b * 3 * nh, t, hs]); // (B·3nh, T, hs)
    const part = (p: number) => ({ group: 3 * nh, start: p * nh });
    const ours = groupedBatchMatMul(x, x, { heads: nh, a: part(0), b: part(1), transposeB: true }); // (B·nh, T, T)
    const x4 = tf.reshape(x, [b, 3 * nh, t, hs]);
    const q = tf.reshape(tf.slice(x4, [0, 0, 0, 0], [b, nh, t, hs]), [b * nh, t, hs]) as tf.Tensor3D;
    const k = tf.reshape(tf.slice(x4, [0, nh, 0, 0], [b, nh, t, hs]), [b * nh, t, hs]) as tf.Tensor3D;
    const ref = tf.matMul(q, k, false, true); // (B·nh, T, T)
    expect(maxDiff(ours.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, ours, x4, q, k, ref]);
  });
});

describe('columnSums (one wasm pass, the product 1ᵀ·x elsewhere)', () => {
  it.each([
    [37, 8],
    [768, 128],
    [5, 6], // C not a multiple of 4: the product
  ])('equals the column sums in double, rounded, for (%i, %i)', (n, c) => {
    const data = normals(createRng(n + c), n * c, 3, 1);
    const x = tf.tensor2d(data, [n, c]); // (N, C)
    const exact = new Float64Array(c);
    data.forEach((v, i) => {
      exact[i % c] += v;
    });
    const before = tf.memory().numTensors;
    const ours = columnSums(x); // (C)
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(ours.shape).toEqual([c]);
    // float32 rounding of sums near N: a few ulps (the product path sums in float32).
    expect(maxDiff(ours.dataSync(), exact)).toBeLessThan(2e-6 * n);
    tf.dispose([x, ours]);
  });
});

describe('op(A)·op(B) (a heap kernel on wasm where the sides fit)', () => {
  it.each([
    [8, 12, 16],
    [64, 65, 128], // any K
    [12, 7, 8], // a partial column block
    [6, 4, 20], // two column blocks, the second partial
    [7, 4, 8], // M odd: the last tile's second row is not stored
    [5, 9, 65], // N = 65 (the recipe's vocabulary): one column in the last block
  ])('wasmMatMul (%i, %i)·(%i, ·) with and without bias equals XNNPACK (bit for bit unless fused)', (m, k, n) => {
    const rng = createRng(m * k + n);
    const a = tf.tensor2d(normals(rng, m * k), [m, k]); // (M, K)
    const b = tf.tensor2d(normals(rng, k * n), [k, n]); // (K, N)
    const bias = tf.tensor1d(normals(rng, n)); // (N)
    for (const withBias of [false, true]) {
      const ours = wasmMatMul(a, b, { bias: withBias ? bias : undefined }); // (M, N) or undefined
      expect(ours !== undefined).toBe(onWasm());
      if (ours) {
        const ref = withBias ? tf.fused.matMul({ a, b, bias }) : tf.matMul(a, b); // (M, N)
        // Fused multiply-adds round once per step where XNNPACK rounds twice: k steps of ≤ 1 ulp
        // of partial sums of unit normals (|partial| ≲ 3·√k), so ≤ k · 3√k · 2⁻²³ apart.
        if (heapKernelsFused()) expect(maxDiff(ours.dataSync(), ref.dataSync())).toBeLessThan(k * 3 * Math.sqrt(k) * 2 ** -23 + 1e-6);
        else expect(Array.from(ours.dataSync())).toEqual(Array.from(ref.dataSync()));
        tf.dispose([ours, ref]);
      }
    }
    tf.dispose([a, b, bias]);
  });

  it.each([
    [40, 8, 16, true, false],
    [768, 128, 128, true, false],
    [10, 6, 20, false, true],
    [64, 96, 36, true, true],
    [200, 130, 65, true, false], // K past the in-place limit: A transposed into scratch first
    [65, 7, 65, false, true], // the lm head's h·Wᵀ shape class: odd M, N = 65
  ])('wasmMatMul reads A (%i·%i) and B (·, %i) transposed in place (transposeA %s, transposeB %s) as tf.matMul with flags', (k, m, n, tA, tB) => {
    const rng = createRng(k + m + n);
    const a = tf.tensor2d(normals(rng, k * m), tA ? [k, m] : [m, k]); // (K, M) or (M, K)
    const b = tf.tensor2d(normals(rng, k * n), tB ? [n, k] : [k, n]); // (N, K) or (K, N)
    const before = tf.memory().numTensors;
    const ours = wasmMatMul(a, b, { transposeA: tA, transposeB: tB }); // (M, N) or undefined
    expect(ours !== undefined).toBe(onWasm());
    if (ours) {
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(ours.shape).toEqual([m, n]);
      const ref = tf.matMul(a, b, tA, tB); // (M, N), the backend's own flagged product
      // Sums of k products of unit normals in float32, in another order: a few ulps of ~3√k.
      expect(maxDiff(ours.dataSync(), ref.dataSync())).toBeLessThan(1e-5 * Math.sqrt(k) * 4);
      tf.dispose([ours, ref]);
    }
    tf.dispose([a, b]);
  });

  it('linear\'s weight gradient xᵀ·dy matches tfjs autograd of x·W + b', () => {
    const rng = createRng(21);
    const x = tf.tensor2d(normals(rng, 64 * 16), [64, 16]); // (N, in)
    const w = tf.tensor2d(normals(rng, 16 * 24), [16, 24]); // (in, out)
    const b = tf.tensor1d(normals(rng, 24)); // (out)
    const r = tf.tensor2d(normals(rng, 64 * 24), [64, 24]); // (N, out) weights of the loss
    const f = (lin: (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D) =>
      tf.grads((p: tf.Tensor, q: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(lin(p as tf.Tensor2D, q as tf.Tensor2D, s as tf.Tensor1D), r)))([x, w, b]);
    const ours = f(linear);
    const ref = f((p, q, s) => tf.add(tf.matMul(p, q), s));
    ours.forEach((g, i) => expect(maxDiff(g.dataSync(), ref[i].dataSync())).toBeLessThan(1e-4));
    tf.dispose([x, w, b, r, ...ours, ...ref]);
  });
});

describe('aliasing Identity (src/ops/wasm/aliasIdentity.ts)', () => {
  it('a clone shares the data, outlives its source, and leaks nothing', () => {
    useAliasingIdentity();
    const before = tf.memory();
    const a = tf.tensor2d([[1, 2], [3, 4]]); // (2, 2)
    const b = tf.clone(a); // (2, 2)
    expect(tf.memory().numTensors).toBe(before.numTensors + 2);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4]);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('a clone of a variable keeps the old value when the variable is assigned', () => {
    useAliasingIdentity();
    const v = tf.variable(tf.tensor1d([1, 2])); // (2)
    const c = tf.clone(v); // (2)
    v.assign(tf.tensor1d([5, 6]));
    expect(Array.from(c.dataSync())).toEqual([1, 2]);
    expect(Array.from(v.dataSync())).toEqual([5, 6]);
    tf.dispose([v, c]);
  });
});
