/**
 * Reads a GGUF file back with Hugging Face's parser (@huggingface/gguf), an implementation
 * independent of ggufWriter.ts, and checks every tensor's name, shape, type and offset order
 * and the metadata values against what was meant to be written.
 */
import { gguf } from '@huggingface/gguf';
import { GGML_TYPE, type GgufTensor, type GgufValue } from './ggufWriter.js';

export async function checkGguf(file: string, metadata: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensor[]): Promise<void> {
  const { metadata: meta, tensorInfos } = await gguf(file, { allowLocalFile: true });
  const fail = (msg: string): never => {
    throw new Error(`checkGguf ${file}: ${msg}`);
  };
  if (meta.version !== 3) fail(`version ${String(meta.version)}, expected 3`);
  const got = meta as unknown as Record<string, unknown>;
  for (const [key, v] of metadata) {
    const want = Object.values(v)[0] as unknown;
    const have = got[key];
    const same = Array.isArray(want)
      ? Array.isArray(have) && have.length === want.length && want.every((x, i) => (typeof x === 'number' ? Math.fround(x) === Math.fround(Number(have[i])) : x === have[i]))
      : typeof want === 'number'
        ? Math.fround(want) === Math.fround(Number(have))
        : want === have;
    if (!same) fail(`metadata ${key} reads back as ${JSON.stringify(have)?.slice(0, 80)}`);
  }
  if (tensorInfos.length !== tensors.length) fail(`${tensorInfos.length} tensors, expected ${tensors.length}`);
  tensorInfos.forEach((info, i) => {
    const t = tensors[i];
    const dims = info.shape.map(Number);
    if (info.name !== t.name || dims.join(',') !== [...t.shape].reverse().join(',') || info.dtype !== GGML_TYPE[t.type]) {
      fail(`tensor ${i} reads back as ${info.name} ne [${dims}] type ${info.dtype}, expected ${t.name} [${[...t.shape].reverse()}] ${t.type}`);
    }
  });
}
