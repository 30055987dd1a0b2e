/**
 * What the four wasm modules on tfjs-backend-wasm's heap export, as heapKernels.ts instantiates
 * them: heapKernels.wat (products, GeLU, transposes, column sums), updateKernels.wat (AdamW and the
 * workers' gradient sum), softmaxKernels.wat and normKernels.wat. Every number is a byte offset
 * into the heap, a count, or a scalar; see each .wat for the arithmetic.
 */

/** heapKernels.wat's exports. */
export interface HeapExports {
  gelu(x: number, y: number, dy: number, count: number, co: number): void;
  transpose(src: number, dst: number, g: number, r: number, c: number, e: number): void;
  matmul(
    a: number,
    b: number,
    c: number,
    m: number,
    k: number,
    n: number,
    bias: number,
    hasBias: number,
    aRow: number,
    aCol: number,
    bRow: number,
    bCol: number,
    pack: number,
    tri: number,
    cRow: number,
    bsum: number,
  ): void;
  matmul_batch(
    a: number,
    b: number,
    c: number,
    outer: number,
    heads: number,
    aOuter: number,
    aHead: number,
    bOuter: number,
    bHead: number,
    cOuter: number,
    cHead: number,
    m: number,
    k: number,
    n: number,
    aRow: number,
    aCol: number,
    bRow: number,
    bCol: number,
    cRow: number,
    pack: number,
    tri: number,
  ): void;
  column_sums(x: number, out: number, acc: number, rows: number, c: number): void;
}

/** updateKernels.wat's exports: AdamW and the workers' gradient sum. */
export interface UpdateExports {
  adamw(
    p: number,
    m: number,
    v: number,
    g: number,
    po: number,
    mo: number,
    vo: number,
    count: number,
    scale: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    s2: number,
    eps: number,
    step: number,
    keep: number,
  ): void;
  reduce(g0: number, count: number, slots: number, stride: number): number;
}

/** softmaxKernels.wat's exports: attention's softmax over rows of n (causal: only keys up to the diagonal), and cross-entropy's. */
export interface SoftmaxExports {
  softmax_fwd(x: number, mask: number, p: number, rows: number, t: number, n: number, scale: number, causal: number): void;
  softmax_bwd(dp: number, p: number, ds: number, rows: number, t: number, n: number, scale: number, causal: number): void;
  softmax_rows(x: number, p: number, stats: number, rows: number, n: number): void;
}

/** normKernels.wat's exports: LayerNorm over rows of c floats, c a multiple of 4. */
export interface NormExports {
  layernorm_fwd(
    x: number,
    gamma: number,
    beta: number,
    hasBeta: number,
    y: number,
    xhat: number,
    rstd: number,
    rows: number,
    c: number,
    eps: number,
  ): void;
  layernorm_bwd(
    dy: number,
    xhat: number,
    rstd: number,
    gamma: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    acc: number,
    rows: number,
    c: number,
  ): void;
}

/** Every kernel of the four modules on one backend's heap. */
export type HeapKernelExports = HeapExports & UpdateExports & SoftmaxExports & NormExports;

