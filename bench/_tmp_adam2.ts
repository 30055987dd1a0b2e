function v1(params: Float32Array, m: Float32Array, v: Float32Array, grads: Float32Array, lo: number, hi: number, b1: number, b2: number, eps: number, stepSize: number, sqrtBc2: number, keep: number, scale: number) {
  const c1 = 1 - b1, c2 = 1 - b2;
  for (let i = lo; i < hi; i++) {
    const g = grads[i] * scale;
    const mi = m[i] * b1 + g * c1;
    const vi = v[i] * b2 + g * g * c2;
    m[i] = mi; v[i] = vi;
    params[i] = params[i] * keep - (mi / (Math.sqrt(vi) / sqrtBc2 + eps)) * stepSize;
  }
}
function v2(params: Float32Array, m: Float32Array, v: Float32Array, grads: Float32Array, lo: number, hi: number, b1: number, b2: number, eps: number, stepSize: number, sqrtBc2: number, keep: number, scale: number) {
  const c1 = 1 - b1, c2 = 1 - b2; const inv = 1 / sqrtBc2;
  for (let i = lo; i < hi; i++) {
    const g = grads[i] * scale;
    const mi = m[i] * b1 + g * c1;
    const vi = v[i] * b2 + g * g * c2;
    m[i] = mi; v[i] = vi;
    params[i] = params[i] * keep - (mi * stepSize) / (Math.sqrt(vi) * inv + eps);
  }
}
const n = 400_000;
const mk = () => new Float32Array(new SharedArrayBuffer(n * 4));
const [p, m, v, g] = [mk(), mk(), mk(), mk()];
for (let i = 0; i < n; i++) { p[i] = Math.sin(i); g[i] = Math.cos(i) * 1e-3; }
for (const [name, f] of [['v1', v1], ['v2', v2], ['v1', v1], ['v2', v2]] as const) {
  const ts: number[] = [];
  for (let r = 0; r < 30; r++) { const t0 = performance.now(); f(p, m, v, g, 0, n, 0.9, 0.99, 1e-8, 1e-3, 0.5, 0.9999, 1); ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b); console.log(name, ts[15].toFixed(2), ts[0].toFixed(2));
}
