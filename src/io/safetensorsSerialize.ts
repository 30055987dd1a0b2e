import {
  HOST_IS_LITTLE_ENDIAN,
  SafetensorsError,
  describeValue,
  numElements,
  shapeProblem,
  type TensorData,
  type TensorMapInput,
} from './safetensorsTypes.js';

/** One tensor placed in the output buffer. */
interface Placed {
  readonly name: string;
  readonly dtype: 'F32' | 'I32';
  readonly shape: number[];
  readonly data: Float32Array | Int32Array;
  readonly begin: number;
  readonly end: number;
}

function entriesOf(tensors: TensorMapInput): [string, TensorData][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
}

function checkTensor(name: string, t: TensorData, fileName: string): void {
  const fail = (msg: string): never => {
    throw new SafetensorsError(fileName, `cannot write tensor "${name}": ${msg}`);
  };
  if (name === '__metadata__') fail('"__metadata__" is reserved for the metadata map; rename the tensor.');
  if (t === null || typeof t !== 'object') fail(`expected { shape, data }, got ${describeValue(t)}.`);
  if (!(t.data instanceof Float32Array) && !(t.data instanceof Int32Array)) {
    fail('data must be a Float32Array (written as F32) or an Int32Array (written as I32).');
  }
  const problem = shapeProblem(t.shape);
  if (problem !== null) fail(`${problem}.`);
  const n = numElements(t.shape);
  if (t.data.length !== n) {
    fail(`shape ${JSON.stringify(t.shape)} has ${n} elements but data has ${t.data.length}.`);
  }
}

function checkMetadata(metadata: Readonly<Record<string, string>>, fileName: string): void {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new SafetensorsError(fileName, `metadata must be an object of strings, got ${describeValue(metadata)}.`);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(fileName, `metadata.${k} must be a string (use String(x)), got ${describeValue(v)}.`);
    }
  }
}

/** Copies one tensor's elements into `out` at `offset` as little-endian bytes. */
function writeData(out: Uint8Array, offset: number, p: Placed): void {
  if (HOST_IS_LITTLE_ENDIAN) {
    out.set(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength), offset);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + offset, p.end - p.begin);
  for (let i = 0; i < p.data.length; i++) {
    if (p.dtype === 'F32') view.setFloat32(4 * i, p.data[i], true);
    else view.setInt32(4 * i, p.data[i], true);
  }
}

/**
 * Encodes tensors as a safetensors file. Float32Array data is written as F32 and
 * Int32Array as I32, little-endian. Tensors are laid out in name order (code-unit order)
 * so equal inputs give identical bytes; the header is padded with spaces to a multiple of
 * 8 bytes so the data buffer starts 8-byte aligned. Empty `metadata` writes no
 * `__metadata__` entry.
 * @param fileName used only in error messages.
 */
export function serializeSafetensors(
  tensors: TensorMapInput,
  metadata?: Readonly<Record<string, string>>,
  fileName = '<buffer>',
): Uint8Array {
  const named = entriesOf(tensors).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const placed: Placed[] = [];
  let offset = 0;
  for (const [name, t] of named) {
    checkTensor(name, t, fileName);
    const dtype = t.data instanceof Float32Array ? 'F32' : 'I32';
    placed.push({ name, dtype, shape: [...t.shape], data: t.data, begin: offset, end: offset + t.data.byteLength });
    offset += t.data.byteLength;
  }
  const entries: [string, unknown][] = [];
  if (metadata !== undefined) {
    checkMetadata(metadata, fileName);
    if (Object.keys(metadata).length > 0) entries.push(['__metadata__', Object.fromEntries(Object.entries(metadata))]);
  }
  for (const p of placed) entries.push([p.name, { dtype: p.dtype, shape: p.shape, data_offsets: [p.begin, p.end] }]);
  // fromEntries rather than assignment, so a tensor named "__proto__" is an ordinary key.
  const json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(entries)));
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n); // spaces: JSON ignores trailing whitespace
  for (const p of placed) writeData(out, 8 + n + p.begin, p);
  return out;
}
