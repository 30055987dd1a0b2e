import { decode16 } from './halfFloat.js';
import {
  DTYPE_SIZE,
  HOST_IS_LITTLE_ENDIAN,
  KNOWN_UNSUPPORTED_DTYPES,
  SafetensorsError,
  describeValue,
  numElements,
  shapeProblem,
  type ParsedSafetensors,
  type SafetensorsDtype,
  type SafetensorsTensor,
} from './safetensorsTypes.js';

/** A header entry that passed validation, before its bytes are decoded (offsets relative to the data buffer). */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads the length prefix and checks it against the file before anything is allocated,
 * so a corrupt or hostile length (say 2^60) costs nothing.
 */
export function headerLength(bytes: Uint8Array, fileName: string, fileLength = bytes.length): number {
  if (fileLength < 8 || bytes.length < 8) {
    throw new SafetensorsError(
      fileName,
      `file is ${fileLength} bytes, shorter than the 8-byte header length prefix; it is truncated or not a safetensors file.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(fileLength - 8)) {
    throw new SafetensorsError(
      fileName,
      `header length ${n} exceeds the ${fileLength - 8} bytes after the prefix; the file is truncated or not a safetensors file.`,
    );
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(fileName, `header length ${n} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes; the file is corrupt.`);
  }
  return Number(n);
}

/** The reference implementation refuses headers above 100 MB; so does this reader. */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * A header nests at most {tensor: {"shape": [dims]}} (depth 3); deeper is malformed, and refusing
 * it before JSON.parse keeps a hostile [[[[...]]]] from exhausting the stack (a RangeError).
 */
const MAX_DEPTH = 3;

/**
 * One pass over the header text that JSON.parse cannot make: duplicate keys in any object
 * (the format forbids them; JSON.parse would keep the last silently) and nesting deeper than a
 * header ever needs. Returns the fault, or null.
 */
function scanHeader(text: string): string | null {
  const keys: Array<Set<string> | null> = []; // one entry per open object ({}) or array (null)
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = keys[keys.length - 1];
      if (expectKey && top) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return null; // JSON.parse reports it
        }
        if (top.has(key)) return `key ${describeValue(key)} appears twice${keys.length > 1 ? ' in one entry' : ''}; the format forbids duplicate keys`;
        top.add(key);
      }
      expectKey = false;
      i = j;
    } else if (ch === '{' || ch === '[') {
      if (keys.length >= MAX_DEPTH) return `the header nests deeper than ${MAX_DEPTH} levels ({tensor: {shape: [dims]}}); a shape must be a flat array of integers`;
      keys.push(ch === '{' ? new Set() : null);
      expectKey = ch === '{';
    } else if (ch === '}' || ch === ']') {
      keys.pop();
    } else if (ch === ',') {
      expectKey = keys[keys.length - 1] != null;
    }
  }
  return null;
}

function parseHeaderJson(bytes: Uint8Array, n: number, fileName: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError(fileName, 'header is not valid UTF-8; the file is corrupt or not a safetensors file.');
  }
  const fault = scanHeader(text);
  if (fault !== null) throw new SafetensorsError(fileName, `malformed header: ${fault}.`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(fileName, `header is not valid JSON (${(e as Error).message}).`);
  }
  if (!isObject(header)) {
    throw new SafetensorsError(fileName, `header must be a JSON object of tensors, got ${describeValue(header)}.`);
  }
  return header;
}

function parseMetadata(raw: unknown, fileName: string): Record<string, string> {
  if (raw === undefined) return {};
  if (!isObject(raw)) {
    throw new SafetensorsError(fileName, `__metadata__ must be an object of strings, got ${describeValue(raw)}.`);
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(fileName, `__metadata__.${k} must be a string, got ${describeValue(v)}.`);
    }
  }
  // fromEntries defines own properties, so even a key named "__proto__" stays plain data.
  return Object.fromEntries(Object.entries(raw)) as Record<string, string>;
}

function parseEntry(name: string, raw: unknown, bufferLength: number, fileName: string): SafetensorsEntry {
  const fail = (msg: string): never => {
    throw new SafetensorsError(fileName, `tensor "${name}": ${msg}`);
  };
  if (!isObject(raw)) return fail(`entry must be an object with dtype, shape and data_offsets, got ${describeValue(raw)}.`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZE)) {
    const known = typeof dtype === 'string' && KNOWN_UNSUPPORTED_DTYPES.includes(dtype);
    return fail(
      `${known ? 'unsupported' : 'unknown'} dtype ${describeValue(dtype)}; tinygpt reads ` +
        `${Object.keys(DTYPE_SIZE).join(', ')}${known ? ' (convert the tensor to F32 before saving)' : ''}.`,
    );
  }
  const problem = shapeProblem(shape);
  if (problem !== null) return fail(`${problem}.`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    return fail(`data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}.`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) return fail(`data_offsets [${begin}, ${end}] has begin > end.`);
  if (end > bufferLength) {
    return fail(`data_offsets end ${end} is past the ${bufferLength}-byte data buffer; the file is truncated.`);
  }
  const dims = shape as number[];
  const want = numElements(dims) * DTYPE_SIZE[dtype as SafetensorsDtype];
  if (end - begin !== want) {
    return fail(
      `data_offsets span ${end - begin} bytes but shape ${JSON.stringify(dims)} of ${dtype} needs ${want}; the header lies about the sizes.`,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: [...dims], begin, end };
}

/**
 * The spec (and the reference implementation) requires tensors to tile the buffer exactly:
 * sorted by offset, each begins where the previous ends and the last ends at the buffer's
 * end. Overlaps would alias tensors; gaps and tails hide unaccounted bytes.
 */
function checkTiling(entries: SafetensorsEntry[], bufferLength: number, fileName: string): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let prev: SafetensorsEntry | null = null;
  for (const e of entries) {
    if (e.begin < expected && prev !== null) {
      throw new SafetensorsError(
        fileName,
        `tensors "${prev.name}" [${prev.begin}, ${prev.end}) and "${e.name}" [${e.begin}, ${e.end}) overlap.`,
      );
    }
    if (e.begin > expected) {
      throw new SafetensorsError(fileName, `bytes [${expected}, ${e.begin}) before tensor "${e.name}" belong to no tensor.`);
    }
    expected = e.end;
    prev = e;
  }
  if (expected !== bufferLength) {
    throw new SafetensorsError(
      fileName,
      `the data buffer has ${bufferLength - expected} trailing bytes after the last tensor (ends at ${expected} of ${bufferLength}).`,
    );
  }
}

/** I64 → int32, refusing values that do not fit (token ids and counts always do). */
function decodeI64(view: DataView, offset: number, count: number, name: string, fileName: string): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const lo = view.getUint32(offset + 8 * i, true);
    const hi = view.getInt32(offset + 8 * i + 4, true);
    // In int32 range iff the high word is the sign extension of the low word's bit 31.
    if (hi !== (lo & 0x80000000 ? -1 : 0)) {
      const value = view.getBigInt64(offset + 8 * i, true);
      throw new SafetensorsError(
        fileName,
        `tensor "${name}": I64 element ${i} = ${value} does not fit in int32; tinygpt reads I64 only as int32.`,
      );
    }
    out[i] = lo | 0;
  }
  return out;
}

function decode(bytes: Uint8Array, start: number, e: SafetensorsEntry, fileName: string): Float32Array | Int32Array {
  const count = (e.end - e.begin) / DTYPE_SIZE[e.dtype];
  const offset = bytes.byteOffset + start + e.begin;
  const view = new DataView(bytes.buffer, offset, e.end - e.begin);
  switch (e.dtype) {
    case 'F16':
    case 'BF16':
      return decode16(view, 0, count, e.dtype);
    case 'I64':
      return decodeI64(view, 0, count, e.name, fileName);
    case 'F32':
    case 'I32': {
      const Ctor = e.dtype === 'F32' ? Float32Array : Int32Array;
      const out = new Ctor(count);
      if (HOST_IS_LITTLE_ENDIAN) {
        // A byte copy into the fresh, aligned array. (Not bytes.slice: on a Node Buffer that
        // returns a view, not a copy.)
        new Uint8Array(out.buffer).set(bytes.subarray(start + e.begin, start + e.end));
        return out;
      }
      for (let i = 0; i < count; i++) {
        out[i] = e.dtype === 'F32' ? view.getFloat32(4 * i, true) : view.getInt32(4 * i, true);
      }
      return out;
    }
  }
}

/** What {@link parseSafetensorsHeader} returns: the checked entries, in file order, and where the data begins. */
export interface SafetensorsHeader {
  readonly entries: SafetensorsEntry[];
  readonly metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file (8 + header length). */
  readonly dataStart: number;
}

/**
 * Validates the header of a safetensors file of `fileLength` bytes from its first bytes (the
 * 8-byte prefix and the header; more is ignored) without reading or allocating any tensor data:
 * every check of {@link parseSafetensors} but the I64 range is made here.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileLength: number, fileName = '<buffer>'): SafetensorsHeader {
  const n = headerLength(bytes, fileName, fileLength);
  if (bytes.length < 8 + n) throw new SafetensorsError(fileName, `only ${bytes.length} of the ${8 + n} header bytes were given.`);
  const header = parseHeaderJson(bytes, n, fileName);
  const dataStart = 8 + n;
  const bufferLength = fileLength - dataStart;
  const metadata = parseMetadata(header.__metadata__, fileName);
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name !== '__metadata__') entries.push(parseEntry(name, raw, bufferLength, fileName));
  }
  checkTiling(entries, bufferLength, fileName);
  return { entries, metadata, dataStart };
}

/** Decodes one validated entry from `bytes`, which hold the data buffer from `start` on. */
export function decodeEntry(bytes: Uint8Array, start: number, e: SafetensorsEntry, fileName = '<buffer>'): Float32Array | Int32Array {
  return decode(bytes, start, e, fileName);
}

/**
 * Parses a whole safetensors file held in memory. Every structural fault (truncation, a
 * header length past the end, bad UTF-8 or JSON, unknown dtypes, bad shapes or offsets,
 * sizes that disagree with shapes, overlapping or unaccounted bytes) throws a
 * {@link SafetensorsError} naming `fileName` and the fault. Nothing larger than the file is
 * ever allocated. The returned arrays are fresh copies owned by the caller.
 */
export function parseSafetensors(bytes: Uint8Array, fileName = '<buffer>'): ParsedSafetensors {
  const { entries, metadata, dataStart: start } = parseSafetensorsHeader(bytes, bytes.length, fileName);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decode(bytes, start, e, fileName) });
  }
  return { tensors, metadata };
}
