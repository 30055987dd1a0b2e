/**
 * Copies the (r, c) row-major matrix at src[from ..] into dst[to ..] as its (c, r) transpose.
 * src and dst may be the same array (e.g. the wasm heap) when the two regions do not overlap.
 */
export function transposeInto(src: Float32Array, from: number, r: number, c: number, dst: Float32Array, to: number): void {
  for (let i = 0; i < r; i++) {
    const row = from + i * c;
    for (let j = 0; j < c; j++) dst[to + j * r + i] = src[row + j];
  }
}
