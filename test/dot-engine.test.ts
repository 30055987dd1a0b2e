import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleDot } from '../bench/reference/assembleDot.js';
import type { HostTensor } from '../src/ops/engine.js';
import { DotEngine } from '../src/ops/dot/dotEngine.js';
import { packedIndex, packedLength, paddedK, permutedIndex } from '../src/ops/dot/dotPack.js';
import { DOT_WASM_BASE64 } from '../src/ops/dot/dotWasm.js';
import { createRng } from '../src/util/rng.js';

const host = (shape: number[], dtype: 'F32' | 'BF16', outMajor: boolean, data: Float32Array | Uint16Array): HostTensor => ({
  shape,
  dtype,
  outMajor,
  read: () => data,
});
/** float32 → its bfloat16 bits, for values that bfloat16 holds exactly. */
const bf16Bits = (xs: readonly number[]) => Uint16Array.from(new Uint32Array(Float32Array.from(xs).buffer), (u) => u >>> 16);

/** y = x·W on the engine: x (rows, k) written to its arena, the product read back. */
function product(e: DotEngine, w: ReturnType<DotEngine['matrix']>, x: number[][]): number[][] {
  const [rows, k, n] = [x.length, w.k, w.n];
  const at = e.reserve(rows * (k + n));
  e.heap().set(x.flat(), at);
  e.matMul(at, rows, w, at + rows * k);
  const h = e.heap();
  return x.map((_, r) => Array.from(h.subarray(at + rows * k + r * n, at + rows * k + (r + 1) * n)));
}

describe('DotEngine (src/ops/dot)', () => {
  it('ships the bytes that dot.wat assembles to', async () => {
    const wat = readFileSync(join(import.meta.dirname, '../src/ops/dot/dot.wat'), 'utf8');
    expect(Buffer.from(await assembleDot(wat)).toString('base64')).toBe(DOT_WASM_BASE64);
  });

  it('multiplies by hand: W (3, 2) in float32 (k, n) and in bfloat16 (n, k), padded to 8 inputs and 4 outputs', () => {
    // W = [[1, 2], [3, 4], [5, 6]]; x = [1, −1, 2] → [1 − 3 + 10, 2 − 4 + 12] = [8, 10]; x = [0, 1, 0] → W's row 1 = [3, 4].
    const e = new DotEngine();
    const f32 = e.matrix(host([3, 2], 'F32', false, Float32Array.from([1, 2, 3, 4, 5, 6])), false);
    const bf = e.matrix(host([3, 2], 'BF16', true, bf16Bits([1, 3, 5, 2, 4, 6])), false); // stored (out, in): Wᵀ
    for (const w of [f32, bf]) {
      expect([w.k, w.n]).toEqual([3, 2]);
      expect(
        product(e, w, [
          [1, -1, 2],
          [0, 1, 0],
        ]),
      ).toEqual([
        [8, 10],
        [3, 4],
      ]);
    }
    // column j, scaled: W[:, 1] · 2 = [4, 8, 12].
    const at = e.reserve(3);
    e.column(bf, 1, at, 2);
    expect(Array.from(e.heap().subarray(at, at + 3))).toEqual([4, 8, 12]);
    e.dispose();
    expect(e.isCurrent()).toBe(false);
  });

  it('equals plain float64 loops on odd sizes, both dtypes and both stored orientations', () => {
    const rng = createRng('dot');
    const e = new DotEngine();
    for (const [k, n, rows] of [
      [19, 10, 3],
      [16, 8, 1],
      [40, 13, 5],
    ]) {
      // Values m/64 with |m| < 128 are exact in bfloat16 (8 significant bits).
      const w = Array.from({ length: k * n }, () => (rng.nextInt(255) - 127) / 64); // W (k, n) row-major
      const wt = Array.from({ length: k * n }, (_, q) => w[(q % k) * n + Math.floor(q / k)]); // Wᵀ (n, k)
      const x = Array.from({ length: rows }, () => Array.from({ length: k }, () => rng.next() * 2 - 1));
      const want = x.map((row) => Array.from({ length: n }, (_, j) => row.reduce((s, v, i) => s + v * w[i * n + j], 0)));
      const refs = [
        e.matrix(host([k, n], 'F32', false, Float32Array.from(w)), false),
        e.matrix(host([k, n], 'F32', true, Float32Array.from(wt)), false),
        e.matrix(host([k, n], 'BF16', true, bf16Bits(wt)), false),
        e.matrix(host([k, n], 'BF16', false, bf16Bits(w)), false),
        e.matrix(host([n, k], 'BF16', false, bf16Bits(wt)), true), // W = tᵀ for t (n, k): the tied-head case
      ];
      for (const ref of refs) {
        const got = product(e, ref, x);
        got.forEach((row, r) =>
          row.forEach((v, j) => expect(Math.abs(v - want[r][j])).toBeLessThan(1e-5 * (1 + Math.abs(want[r][j])))),
        );
        const at = e.reserve(k);
        e.column(ref, n - 1, at, 1);
        expect(Array.from(e.heap().subarray(at, at + k))).toEqual(
          Array.from({ length: k }, (_, i) => Math.fround(w[i * n + n - 1])),
        );
      }
    }
    e.dispose();
  });

  it('lays weights and x out one-to-one (the packing is a permutation of the padded matrix)', () => {
    const [k, n] = [13, 6];
    const kp = paddedK(k);
    for (const permuted of [false, true]) {
      const seen = new Set<number>();
      for (let j = 0; j < Math.ceil(n / 4) * 4; j++) for (let i = 0; i < kp; i++) seen.add(packedIndex(i, j, kp, permuted));
      expect(seen.size).toBe(packedLength(k, n));
      expect(Math.max(...seen)).toBe(packedLength(k, n) - 1);
    }
    expect(Array.from({ length: 8 }, (_, i) => permutedIndex(i))).toEqual([0, 4, 1, 5, 2, 6, 3, 7]); // x0 x2 x4 x6 | x1 x3 x5 x7
  });

  it('refuses a model larger than WebAssembly memory before reading it, and says what to do', () => {
    const e = new DotEngine();
    let read = false;
    const big: HostTensor = {
      shape: [65536, 32768],
      dtype: 'F32',
      outMajor: true,
      read: () => ((read = true), new Float32Array(0)),
    };
    expect(() => e.matrix(big, false)).toThrow(/above WebAssembly's 4 GiB; keep the weights in bfloat16/);
    expect(read).toBe(false);
    e.dispose();
  });
});
