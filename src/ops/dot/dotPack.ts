/**
 * The DotEngine's weight layout (see dot.wat): W (k, n) as blocks of four output rows of Wᵀ, k
 * padded to a multiple of 8 with zeros, each block stored chunk by chunk (8 values of row 4b, of
 * 4b+1, 4b+2, 4b+3, then the next 8 columns). x is permuted within each chunk of 8 to the even
 * positions first, 0 2 4 6 1 3 5 7: the kernel splits a vector of eight bfloat16 into its even and
 * odd elements, so bfloat16 chunks stay in natural order, while float32 chunks are stored permuted
 * like x. Pure index arithmetic, shared by packing, unpacking and the tests.
 */

/** Input width k padded to the kernel's chunk of 8. */
export function paddedK(k: number): number {
  return Math.ceil(k / 8) * 8;
}

/** Blocks of four outputs covering n (the last one padded with zero rows). */
export function blocksOf(n: number): number {
  return Math.ceil(n / 4);
}

/** Values in a packed matrix: blocks · 4 · kp. */
export function packedLength(k: number, n: number): number {
  return blocksOf(n) * 4 * paddedK(k);
}

/** Where W[i, j] (input i, output j) sits in the packed array; `permuted` for float32 chunks. */
export function packedIndex(i: number, j: number, kp: number, permuted: boolean): number {
  const e = i & 7;
  return (j >> 2) * 4 * kp + (i >> 3) * 32 + (j & 3) * 8 + (permuted ? ((e & 1) << 2) + (e >> 1) : e);
}

/** Where x[i] sits in a permuted row of kp values (the same order within each chunk of 8). */
export function permutedIndex(i: number): number {
  const e = i & 7;
  return (i & ~7) + ((e & 1) << 2) + (e >> 1);
}

/**
 * Packs W into `out` (zeroed, packedLength(k, n) long), reading W[i, j] = src[j·sj + i·si]:
 * (sj, si) = (k, 1) when src holds Wᵀ row-major (out-major), (1, n) when it holds W. Float32
 * chunks are permuted like x, bfloat16 ones are not (see above).
 */
export function packInto(
  src: Float32Array | Uint16Array,
  k: number,
  n: number,
  sj: number,
  si: number,
  out: Float32Array | Uint16Array,
): void {
  if (
    src instanceof Uint16Array &&
    out instanceof Uint16Array &&
    si === 1 &&
    sj === k &&
    k % 2 === 0 &&
    src.byteOffset % 4 === 0
  ) {
    return packPairs(
      new Uint32Array(src.buffer, src.byteOffset, src.length / 2),
      k / 2,
      n,
      new Uint32Array(out.buffer, out.byteOffset, out.length / 2),
    );
  }
  const kp = paddedK(k);
  const permuted = out instanceof Float32Array;
  for (let j = 0; j < n; j++) {
    const base = (j >> 2) * 4 * kp + (j & 3) * 8;
    for (let i = 0; i < k; i++) {
      const e = i & 7;
      out[base + (i >> 3) * 32 + (permuted ? ((e & 1) << 2) + (e >> 1) : e)] = src[j * sj + i * si];
    }
  }
}

/**
 * The common case, out-major bfloat16 (a Hugging Face Linear weight), two values at a time: each
 * output row's chunks of 8 (4 pairs) go to their places 4 rows apart. `half` = k / 2 pairs a row.
 */
function packPairs(src: Uint32Array, half: number, n: number, out: Uint32Array): void {
  const hp = paddedK(2 * half) / 2; // pairs per padded row
  for (let j = 0; j < n; j++) {
    const base = (j >> 2) * 4 * hp + (j & 3) * 4;
    const row = j * half;
    let c = 0;
    for (; c + 4 <= half; c += 4) {
      const o = base + c * 4;
      out[o] = src[row + c];
      out[o + 1] = src[row + c + 1];
      out[o + 2] = src[row + c + 2];
      out[o + 3] = src[row + c + 3];
    }
    for (; c < half; c++) out[base + (c >> 2) * 16 + (c & 3)] = src[row + c];
  }
}
