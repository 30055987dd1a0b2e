/**
 * Shared vocabulary of the safetensors reader and writer: the dtypes, the tensor records
 * they exchange, and the error they throw.
 *
 * File layout (https://github.com/huggingface/safetensors): an 8-byte little-endian u64 N,
 * N bytes of UTF-8 JSON header, then the data buffer that the header's offsets index.
 */

/** Element types this reader decodes. F16/BF16 widen to float32, I64 narrows to int32. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';

/** Bytes per element of each readable dtype. */
export const DTYPE_SIZE: Readonly<Record<SafetensorsDtype, number>> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I32: 4,
  I64: 8,
};

/**
 * Dtypes the safetensors spec defines that tinygpt deliberately does not read: they would
 * need a lossy or surprising conversion, so the caller should convert them first.
 */
export const KNOWN_UNSUPPORTED_DTYPES: readonly string[] = [
  'F64', 'I8', 'I16', 'U8', 'U16', 'U32', 'U64', 'BOOL', 'F8_E4M3', 'F8_E5M2',
];

/** A tensor as plain data: what the writer accepts. */
export interface TensorData {
  /** Dimensions, outermost first; [] is a scalar. */
  readonly shape: readonly number[];
  /** Row-major elements; length must equal the product of shape. Int32Array is stored as I32. */
  readonly data: Float32Array | Int32Array;
}

/** A tensor as read from a file. */
export interface SafetensorsTensor extends TensorData {
  /** The dtype on disk (the data is already converted to float32 or int32). */
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
}

/** What {@link parseSafetensors} returns. */
export interface ParsedSafetensors {
  /** Tensors in the order their bytes appear in the file. */
  readonly tensors: Map<string, SafetensorsTensor>;
  /** The header's `__metadata__` string map ({} when absent). */
  readonly metadata: Record<string, string>;
}

/** Tensors to write, keyed by name. */
export type TensorMapInput =
  | ReadonlyMap<string, TensorData>
  | Readonly<Record<string, TensorData>>;

/** Any fault in a safetensors file or in tensors handed to the writer; names the file. */
export class SafetensorsError extends Error {
  /** The file (or '<buffer>') the fault was found in. */
  readonly fileName: string;

  constructor(fileName: string, message: string) {
    super(`${fileName}: ${message}`);
    this.name = 'SafetensorsError';
    this.fileName = fileName;
  }
}

/**
 * Why `shape` is not a valid shape (an array of non-negative safe integers whose product is
 * a safe integer), or null when it is.
 */
export function shapeProblem(shape: unknown): string | null {
  if (!Array.isArray(shape)) return `shape must be an array of non-negative integers, got ${describeValue(shape)}`;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      return `shape must be an array of non-negative integers, got ${describeShape(shape)}`;
    }
    n *= d;
    if (!Number.isSafeInteger(n)) return `shape ${describeShape(shape)} has more than 2^53 elements`;
  }
  return null;
}

/** A bounded description of a shape for messages: never recursing into nested arrays (a deep one would overflow the stack). */
function describeShape(shape: readonly unknown[]): string {
  const parts = shape.slice(0, 8).map((d) => (Array.isArray(d) ? '[...]' : describeValue(d)));
  return `[${parts.join(',')}${shape.length > 8 ? ',...' : ''}]`;
}

/** Number of elements of a shape already checked by {@link shapeProblem}. */
export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A short, safe description of an unexpected JSON value for an error message. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Byte order of this machine; safetensors is little-endian everywhere. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
