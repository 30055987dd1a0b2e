import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite.js';

/** Where nanoGPT and char-rnn get Tiny Shakespeare (about 1.1 MB of plays). */
export const SHAKESPEARE_URL =
  'https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt';

/** SHA-256 of the file at {@link SHAKESPEARE_URL}, so a truncated or altered copy is caught. */
export const SHAKESPEARE_SHA256 = '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed';

/** The part of a fetch Response that the download uses. */
export interface FetchResponseLike {
  /** True for a 2xx status. */
  readonly ok: boolean;
  /** HTTP status code. */
  readonly status: number;
  /** HTTP status text (may be empty). */
  readonly statusText: string;
  /** The body as bytes. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A fetch function; the global one fits, and tests pass a fake. */
export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<FetchResponseLike>;

/** Options of {@link ensureShakespeare}. */
export interface EnsureShakespeareOptions {
  /** A local copy of input.txt to use instead of downloading; it is verified, then copied to `dest`. */
  readonly path?: string;
  /** Where the corpus should end up (default 'data/tinyshakespeare.txt', relative to the working folder). */
  readonly dest?: string;
  /** Fetch implementation for the download (default: the global fetch). */
  readonly fetch?: FetchLike;
  /** URL to download from (default {@link SHAKESPEARE_URL}). */
  readonly url?: string;
  /** Give up on the download after this many milliseconds (default 60000). */
  readonly timeoutMs?: number;
}

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The file's bytes, or undefined when it does not exist. */
async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if (err && typeof err === 'object' && (err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
}

function mismatch(what: string, actual: string, fix: string): Error {
  return new Error(
    `${what} does not match Tiny Shakespeare: expected sha256 ${SHAKESPEARE_SHA256}, got ${actual}. ${fix}`,
  );
}

async function download(url: string, fetchFn: FetchLike, timeoutMs: number): Promise<Uint8Array> {
  const offline =
    'Check your network connection, or download the file yourself and pass it with --data PATH ' +
    '(ensureShakespeare({ path }) from code).';
  const failed = (err: unknown): Error =>
    new Error(
      `Could not download Tiny Shakespeare from ${url} (${err instanceof Error ? err.message : String(err)}). ${offline}`,
      { cause: err },
    );
  // One signal covers both the response headers and the body, so a stalled transfer also times out.
  const signal = AbortSignal.timeout(timeoutMs);
  let res: FetchResponseLike;
  try {
    res = await fetchFn(url, { signal });
  } catch (err) {
    throw failed(err);
  }
  if (!res.ok) {
    throw new Error(`Downloading ${url} failed with HTTP ${`${res.status} ${res.statusText}`.trim()}. ${offline}`);
  }
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw failed(err);
  }
}

/**
 * Makes sure the Tiny Shakespeare corpus is at `dest` and returns its absolute path.
 * With `path`, that local copy is verified and copied to `dest`. Otherwise an existing `dest`
 * with the right checksum is reused, and failing that the file is downloaded. Every copy is
 * checked against {@link SHAKESPEARE_SHA256} before it is written, and written atomically, so
 * `dest` never holds a partial or wrong file.
 */
export async function ensureShakespeare(options: EnsureShakespeareOptions = {}): Promise<string> {
  const { path, dest = 'data/tinyshakespeare.txt', url = SHAKESPEARE_URL, timeoutMs = 60_000 } = options;
  const target = resolve(dest);

  if (path !== undefined) {
    const bytes = await readIfExists(path);
    if (bytes === undefined) {
      throw new Error(`No file at ${path}: pass the path of Tiny Shakespeare's input.txt, or omit it to download.`);
    }
    const actual = sha256Hex(bytes);
    if (actual !== SHAKESPEARE_SHA256) {
      throw mismatch(
        `The file ${path}`,
        actual,
        `Use an unmodified copy of ${SHAKESPEARE_URL}; to train on another text, load it with loadText instead.`,
      );
    }
    if (resolve(path) !== target) await writeFileAtomic(target, bytes);
    return target;
  }

  const existing = await readIfExists(target);
  if (existing !== undefined) {
    const actual = sha256Hex(existing);
    if (actual === SHAKESPEARE_SHA256) return target;
    // Refuse rather than overwrite: the file may be the user's own.
    throw mismatch(
      `The existing file ${target}`,
      actual,
      'Delete it to download a fresh copy, or choose another dest.',
    );
  }

  const fetchFn: FetchLike | undefined = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== 'function') {
    throw new Error('No fetch function is available (Node 18 or newer has one): pass a local copy with --data PATH.');
  }
  const bytes = await download(url, fetchFn, timeoutMs);
  const actual = sha256Hex(bytes);
  if (actual !== SHAKESPEARE_SHA256) {
    throw mismatch(
      `The file downloaded from ${url}`,
      actual,
      'The download may be truncated or the server may have sent an error page: try again, or pass a local copy with --data PATH.',
    );
  }
  await writeFileAtomic(target, bytes);
  return target;
}
