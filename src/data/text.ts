import { readFile } from 'node:fs/promises';

/** Node's file-system errors carry a string code such as 'ENOENT'. */
function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const { code } = err as { code: unknown };
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Reads a UTF-8 text file (a leading byte-order mark is dropped). Throws a clear error when
 * the file is missing, is a folder, is empty, or is not valid UTF-8.
 */
export async function loadText(path: string): Promise<string> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new Error('loadText needs the path of a UTF-8 text file.');
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') {
      throw new Error(`Text file not found: ${path}. Check the path (relative to the current folder); tinygpt train without --data downloads Tiny Shakespeare.`, {
        cause: err,
      });
    }
    if (code === 'EISDIR') {
      throw new Error(`${path} is a folder, not a text file: pass the path of the file itself.`, { cause: err });
    }
    throw new Error(`Could not read ${path}: ${err instanceof Error ? err.message : String(err)}.`, { cause: err });
  }
  if (bytes.length === 0) {
    throw new Error(`Text file ${path} is empty: a model needs a corpus to learn from.`);
  }
  try {
    // fatal: reject malformed bytes instead of silently turning them into U+FFFD.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new Error(`${path} is not valid UTF-8 text: convert it to UTF-8 (e.g. with iconv) and try again.`, {
      cause: err,
    });
  }
}
