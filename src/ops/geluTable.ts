/**
 * Exact GeLU, x·Φ(x), and its derivative Φ(x) + x·φ(x) (φ the standard normal density) from one
 * table, in plain JS over typed arrays: the wasm training kernel and the tensor-free decoder share it.
 *
 * Φ and y' come from cubic Hermite interpolation on a grid of step h = 1/64 over [−8, 8], built
 * from their exact values and derivatives at the nodes (Φ' = φ, y'' = (2 − x²)·φ) and stored as
 * one cubic in u = (x − x_i)/h per step, with float32 coefficients evaluated in float32: the
 * wasm kernel then runs four elements per f32x4 step with no conversion to double. The
 * interpolation error is at most h⁴/384 · max|f⁗| (< 1e-9); the float32 rounding of coefficients
 * and Horner steps leaves x·Φ(x) within 2.6 ulps of the exact value on [−5, 8] and y' within
 * 1.2e-7 (test/gelu-table.test.ts measures both), as close as tf.erf and tf.exp's float32
 * arithmetic gets. Outside [−8, 8], Φ is 0 or 1 and φ is 0 to float32 precision (φ(8) ≈ 5e-15).
 */
const LIMIT = 8;
const PER_UNIT = 64;
const H = 1 / PER_UNIT;
const STEPS = 2 * LIMIT * PER_UNIT;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const density = (x: number): number => INV_SQRT_2PI * Math.exp(-0.5 * x * x);

/** Nodes 0, ±0.538…, ±0.906… and weights of 5-point Gauss-Legendre on [−1, 1]. */
const GAUSS_LEGENDRE: ReadonlyArray<readonly [number, number]> = [
  [0, 0.5688888888888889],
  [0.5384693101056831, 0.4786286704993665],
  [-0.5384693101056831, 0.4786286704993665],
  [0.906179845938664, 0.2369268850561891],
  [-0.906179845938664, 0.2369268850561891],
];

/** ∫ φ over [a, a + h], exact to rounding for a function this smooth. */
function stepIntegral(a: number): number {
  let s = 0;
  for (const [node, weight] of GAUSS_LEGENDRE) s += weight * density(a + 0.5 * H * (1 + node));
  return 0.5 * H * s;
}

/** Writes c0..c3 of the cubic Hermite interpolant c0 + c1·u + c2·u² + c3·u³ of one step. */
function hermite(out: Float64Array, at: number, f0: number, d0: number, f1: number, d1: number): void {
  const [s0, s1] = [H * d0, H * d1];
  out[at] = f0;
  out[at + 1] = s0;
  out[at + 2] = 3 * (f1 - f0) - 2 * s0 - s1;
  out[at + 3] = 2 * (f0 - f1) + s0 + s1;
}

/**
 * Per step i (x from −8 + i·h): 4 coefficients of Φ, then 4 of y' = Φ + x·φ, rounded to float32
 * (the kernels evaluate them in float32). Φ at the nodes is ½ + ∫₀^x φ, accumulated outward from 0
 * with Gauss-Legendre on each step, in double precision. One more step after the last holds the
 * constants Φ = 1, y' = 1, where x ≥ 8 lands.
 */
function buildCoefficients(): Float32Array {
  const cdf = new Float64Array(STEPS + 1);
  const mid = STEPS / 2;
  cdf[mid] = 0.5;
  for (let i = mid; i < STEPS; i++) cdf[i + 1] = cdf[i] + stepIntegral(-LIMIT + i * H);
  for (let i = mid; i > 0; i--) cdf[i - 1] = cdf[i] - stepIntegral(-LIMIT + (i - 1) * H);
  const co = new Float64Array(8 * (STEPS + 1));
  // Below −8, x·Φ(x) is −0 in float32 (as tf.erf's 1 + erf rounds to 0): pin the end node to 0 so
  // clamped inputs give exactly x·0. (Φ(−8) ≈ 6e-16, y'(−8) ≈ −4e-14 are far below every float32 step.)
  const nodeSlope = (i: number, x: number, p: number) => (i === 0 ? 0 : cdf[i] + x * p);
  for (let i = 0; i < STEPS; i++) {
    const [x0, x1] = [-LIMIT + i * H, -LIMIT + (i + 1) * H];
    const [p0, p1] = [density(x0), density(x1)];
    hermite(co, 8 * i, i === 0 ? 0 : cdf[i], p0, cdf[i + 1], p1);
    hermite(co, 8 * i + 4, nodeSlope(i, x0, p0), (2 - x0 * x0) * p0, nodeSlope(i + 1, x1, p1), (2 - x1 * x1) * p1);
  }
  co[8 * STEPS] = 1; // Φ(x ≥ 8) = 1 and y'(x ≥ 8) = 1 to float32 precision (1 − Φ(8) ≈ 6e-16)
  co[8 * STEPS + 4] = 1;
  return Float32Array.from(co);
}

let table: Float32Array | undefined;

/** The shared table, built on first use (1025 cubic steps of 8 float32 coefficients, a few ms). */
export function geluCoefficients(): Float32Array {
  return (table ??= buildCoefficients());
}

const f32 = Math.fround;

/**
 * The cubic of step k = 8·i (+ 4 for y'), co[k] + u·(co[k+1] + u·(co[k+2] + u·co[k+3])), with
 * every product and sum rounded to float32, as heapKernels.wat's f32x4 lanes compute it (a double
 * operation on float32 inputs rounded once to float32 is the float32 operation).
 */
function cubic(co: Float32Array, k: number, u: number): number {
  return f32(co[k] + f32(u * f32(co[k + 1] + f32(u * f32(co[k + 2] + f32(u * co[k + 3]))))));
}

/**
 * 64·x clamped to [−512, 512]: its floor + 512 is the step (0 … 1024) and t − floor(t) ∈ [0, 1) the
 * offset u in it, both exact (64·x is exact in float32, and so is t minus its integer part).
 * NaN stays NaN (Math.max/min, as wasm's pmax/pmin, pass it through), and so does every output.
 */
function gridPosition(x: number): number {
  return Math.min(Math.max(x * PER_UNIT, -LIMIT * PER_UNIT), LIMIT * PER_UNIT);
}

/**
 * Writes y = x·Φ(x) and dy = Φ(x) + x·φ(x) for every element of xs. x is clamped into the grid
 * (Math.min/max, no branch: branches made this loop ~1.6x slower), which is exact beyond it because
 * the end nodes hold Φ = 0, y' = 0 at −8 and Φ = 1, y' = 1 from 8 on: x < −8 gives x·0 (−0, or
 * NaN for −∞, as x·Φ(x) in float32), x ≥ 8 gives x. y' at ±∞ is 0 or 1 where tf's ops give NaN.
 */
export function geluAndDerivative(xs: Float32Array, y: Float32Array, dy: Float32Array): void {
  const co = geluCoefficients();
  for (let n = 0; n < xs.length; n++) {
    const x = xs[n];
    const t = gridPosition(x);
    const f = Math.floor(t);
    const k = (f + LIMIT * PER_UNIT) << 3;
    const u = t - f;
    y[n] = x * cubic(co, k, u);
    dy[n] = cubic(co, k + 4, u);
  }
}

/** x·Φ(x) in place on a[from, from + n), by the same table and arithmetic as {@link geluAndDerivative}. */
export function geluInPlace(a: Float32Array, from: number, n: number): void {
  const co = geluCoefficients();
  for (let m = from; m < from + n; m++) {
    const t = gridPosition(a[m]);
    const f = Math.floor(t);
    a[m] *= cubic(co, (f + LIMIT * PER_UNIT) << 3, t - f);
  }
}
