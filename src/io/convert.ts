import type { ResolvedGPTConfig } from '../config/config.js';
import { weightTable, type StoredTensor, type WeightFormat } from '../config/names.js';
import type { TensorData } from './safetensorsTypes.js';

/** (rows, cols) row-major → its transpose (cols, rows). */
function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** Adds `offset` to every element (a copy). */
function shifted(data: Float32Array, offset: number): Float32Array {
  if (offset === 0) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] + offset;
  return out;
}

function floats(t: TensorData, name: string, file: string): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new Error(`${file}: tensor "${name}" is not a float tensor.`);
  return t.data;
}

/**
 * One stored part in canonical layout: a (out, in) matrix transposed to (in, out), a vector as is.
 * Returns the part's rows (in, or 1 for a vector) and its data.
 */
function canonicalPart(t: TensorData, row: StoredTensor, name: string, file: string): { rows: number; cols: number; data: Float32Array } {
  const data = floats(t, name, file);
  if (t.shape.length === 2) {
    const [a, b] = t.shape;
    return row.transposed ? { rows: b, cols: a, data: transpose2d(data, a, b) } : { rows: a, cols: b, data };
  }
  return { rows: 1, cols: data.length, data };
}

/** Side-by-side columns of parts with equal rows: [A | B | C]. */
function concatColumns(parts: ReadonlyArray<{ rows: number; cols: number; data: Float32Array }>): Float32Array {
  const rows = parts[0].rows;
  const width = parts.reduce((s, p) => s + p.cols, 0);
  const out = new Float32Array(rows * width);
  let at = 0;
  for (const p of parts) {
    for (let r = 0; r < rows; r++) out.set(p.data.subarray(r * p.cols, (r + 1) * p.cols), r * width + at);
    at += p.cols;
  }
  return out;
}

/**
 * Reads a file's tensors, stored in `format`, into tinygpt's canonical names and layout
 * (src/config/names.ts): renames, joins q/k/v into c_attn, transposes (out, in) matrices and adds
 * back Gemma's +1 on RMSNorm gains. Tensors the table does not list are returned in `unused`;
 * canonical tensors none of whose parts are present are left out (the caller reports them missing).
 */
export function toCanonical(
  c: ResolvedGPTConfig,
  format: WeightFormat,
  stored: ReadonlyMap<string, TensorData>,
  file: string,
): { tensors: Map<string, TensorData>; unused: string[] } {
  const out = new Map<string, TensorData>();
  const used = new Set<string>();
  for (const row of weightTable(c, format)) {
    const present = row.stored.filter((n) => stored.has(n));
    if (present.length === 0) continue;
    if (present.length < row.stored.length) {
      const missing = row.stored.filter((n) => !stored.has(n));
      throw new Error(`${file}: ${missing.join(', ')} missing (needed with ${present.join(', ')} for ${row.canonical}).`);
    }
    const parts = row.stored.map((n) => {
      used.add(n);
      return canonicalPart(stored.get(n)!, row, n, file);
    });
    if (parts.length === 1) {
      const p = parts[0];
      const shape = stored.get(row.stored[0])!.shape.length === 2 ? [p.rows, p.cols] : [p.cols];
      out.set(row.canonical, { shape, data: shifted(p.data, row.offset) });
    } else {
      if (parts.some((p) => p.rows !== parts[0].rows)) throw new Error(`${file}: ${row.stored.join(', ')} disagree in their input size.`);
      const data = concatColumns(parts);
      const width = parts.reduce((s, p) => s + p.cols, 0);
      out.set(row.canonical, { shape: parts[0].rows === 1 ? [width] : [parts[0].rows, width], data: shifted(data, row.offset) });
    }
  }
  return { tensors: out, unused: [...stored.keys()].filter((n) => !used.has(n)) };
}

/**
 * The inverse of {@link toCanonical}: canonical tensors (by name) → the stored tensors of
 * `format` (c_attn split into q/k/v, matrices transposed where the format stores (out, in),
 * Gemma's gains stored as γ − 1).
 */
export function fromCanonical(c: ResolvedGPTConfig, format: WeightFormat, canonical: ReadonlyMap<string, TensorData>): Map<string, TensorData> {
  const out = new Map<string, TensorData>();
  for (const row of weightTable(c, format)) {
    const t = canonical.get(row.canonical);
    if (!t) throw new Error(`fromCanonical: the model has no tensor ${row.canonical}.`);
    const data = shifted(floats(t, row.canonical, 'model'), -row.offset);
    const matrix = t.shape.length === 2;
    const rows = matrix ? t.shape[0] : 1;
    const width = matrix ? t.shape[1] : data.length;
    let at = 0;
    row.stored.forEach((name, k) => {
      const w = row.widths[k];
      const part = new Float32Array(rows * w);
      for (let r = 0; r < rows; r++) part.set(data.subarray(r * width + at, r * width + at + w), r * w);
      at += w;
      if (!matrix) out.set(name, { shape: [w], data: part });
      else if (row.transposed) out.set(name, { shape: [w, rows], data: transpose2d(part, rows, w) });
      else out.set(name, { shape: [rows, w], data: part });
    });
  }
  return out;
}
