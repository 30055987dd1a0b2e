import * as tf from '@tensorflow/tfjs-core';

/**
 * Exact GeLU and its derivative in one pass, as a wasm-backend kernel written in JS.
 *
 * On wasm, Erf and Exp are scalar libm calls per element (~10-25 ns each, the slowest kernels of a
 * training step), and GeLU's forward and backward need five more element-wise passes besides. This
 * kernel reads x once and writes y = x·Φ(x) and y' = Φ(x) + x·φ(x) (φ the standard normal density),
 * so the backward pass is a single multiply.
 *
 * Φ and y' come from cubic Hermite interpolation on a grid of step h = 1/64 over [−8, 8], built
 * from their exact values and derivatives at the nodes (Φ' = φ, y'' = (2 − x²)·φ) and stored as
 * one cubic in u = (x − x_i)/h per step. The interpolation error is at most h⁴/384 · max|f⁗|
 * (< 1e-9), far below float32 resolution, so the outputs equal x·Φ(x) and Φ + x·φ rounded to
 * float32 to within an ulp or two, as tf.erf and tf.exp give them. Outside [−8, 8], Φ is 0 or 1
 * and φ is 0 to float32 precision (φ(8) ≈ 5e-15).
 */
export const WASM_GELU = 'TinyGptGelu';

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
 * Per step i (x from −8 + i·h): 4 coefficients of Φ, then 4 of y' = Φ + x·φ. Φ at the nodes is
 * ½ + ∫₀^x φ, accumulated outward from 0 with Gauss-Legendre on each step, in double precision.
 */
function buildCoefficients(): Float64Array {
  const cdf = new Float64Array(STEPS + 1);
  const mid = STEPS / 2;
  cdf[mid] = 0.5;
  for (let i = mid; i < STEPS; i++) cdf[i + 1] = cdf[i] + stepIntegral(-LIMIT + i * H);
  for (let i = mid; i > 0; i--) cdf[i - 1] = cdf[i] - stepIntegral(-LIMIT + (i - 1) * H);
  const co = new Float64Array(8 * STEPS);
  // Below −8, x·Φ(x) is −0 in float32 (as tf.erf's 1 + erf rounds to 0): pin the end node to 0 so
  // clamped inputs give exactly x·0. (Φ(−8) ≈ 6e-16, y'(−8) ≈ −4e-14 are far below any float32 step.)
  const nodeSlope = (i: number, x: number, p: number) => (i === 0 ? 0 : cdf[i] + x * p);
  for (let i = 0; i < STEPS; i++) {
    const [x0, x1] = [-LIMIT + i * H, -LIMIT + (i + 1) * H];
    const [p0, p1] = [density(x0), density(x1)];
    hermite(co, 8 * i, i === 0 ? 0 : cdf[i], p0, cdf[i + 1], p1);
    hermite(co, 8 * i + 4, nodeSlope(i, x0, p0), (2 - x0 * x0) * p0, nodeSlope(i + 1, x1, p1), (2 - x1 * x1) * p1);
  }
  return co;
}

let coefficients: Float64Array | undefined;

/** The parts of tfjs-backend-wasm's BackendWasm the kernel uses. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function isWasmBackend(b: unknown): b is WasmBackend {
  if (b == null || typeof b !== 'object') return false;
  const r = b as Record<string, unknown>;
  return typeof r.makeOutput === 'function' && typeof r.typedArrayFromHeap === 'function';
}

/**
 * Writes y = x·Φ(x) and dy = Φ(x) + x·φ(x) for every element of xs. x is clamped into the grid
 * (Math.min/max, no branch: branches made this loop ~1.6x slower), which is exact beyond it because
 * the end nodes hold Φ = 0, y' = 0 at −8 and Φ = 1, y' = 1 at 8 to float32 precision: x < −8 gives
 * x·0 (−0, or NaN for −∞, as x·Φ(x) in float32), x ≥ 8 gives x. NaN stays NaN; y' at ±∞ is 0 or 1
 * where tf's ops would give NaN.
 */
function geluAndDerivative(xs: Float32Array, y: Float32Array, dy: Float32Array, co: Float64Array): void {
  const top = STEPS - 1e-6;
  const shift = LIMIT * PER_UNIT;
  for (let n = 0; n < xs.length; n++) {
    const x = xs[n];
    const s = Math.min(Math.max(x * PER_UNIT + shift, 0), top); // (x + 8)·64, exact in double
    const i = s | 0;
    const u = s - i;
    const k = i << 3;
    y[n] = x * (co[k] + u * (co[k + 1] + u * (co[k + 2] + u * co[k + 3])));
    dy[n] = co[k + 4] + u * (co[k + 5] + u * (co[k + 6] + u * co[k + 7]));
  }
}

function kernelFunc({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo[] {
  if (!isWasmBackend(backend)) throw new Error(`${WASM_GELU} runs only on tfjs-backend-wasm 4.x.`);
  const x = inputs.x as tf.TensorInfo;
  const y = backend.makeOutput([...x.shape], 'float32');
  const dy = backend.makeOutput([...x.shape], 'float32');
  coefficients ??= buildCoefficients();
  // Views are taken after both allocations: an allocation may grow (and detach) the heap.
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  geluAndDerivative(xs, backend.typedArrayFromHeap(y) as Float32Array, backend.typedArrayFromHeap(dy) as Float32Array, coefficients);
  return [y, dy];
}

let registered = false;

/** True when the current backend is wasm (registering the kernel on first use). */
export function wasmGeluAvailable(): boolean {
  if (tf.getBackend() !== 'wasm' || !isWasmBackend(tf.backend())) return false;
  if (!registered) {
    tf.registerKernel({ kernelName: WASM_GELU, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
    registered = true;
  }
  return true;
}

/** [x·Φ(x), Φ(x) + x·φ(x)] for float32 x on wasm; call only when {@link wasmGeluAvailable} is true. */
export function wasmGelu(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (x.dtype !== 'float32') throw new Error(`gelu: x must be float32, got ${x.dtype}; cast it with tf.cast(x, 'float32').`);
  if (!wasmGeluAvailable()) throw new Error('wasmGelu needs the wasm backend: call setBackend(\'wasm\') first.');
  return tf.engine().runKernel(WASM_GELU, { x }) as [tf.Tensor, tf.Tensor];
}
