/**
 * Reading OpenAI's GPT-2 tokenizer files: encoder.json (token string ↦ id, strings written in
 * GPT-2's byte alphabet) and vocab.bpe (a '#version' line, then one merge "left right" per
 * line in rank order). They become the same plain JSON a trained tokenizer saves.
 */
import { gpt2ByteToChar } from './bpe-bytes.js';
import { BPE_JSON_TYPE, type BPETokenizerJSON } from './bpe-json.js';
import { MERGE_BASE } from './bpe-merges.js';

const NODE_FS = 'node:fs/promises';

function fail(problem: string): never {
  throw new Error(`BPETokenizer.fromGPT2Files: ${problem}`);
}

/**
 * Converts GPT-2's parsed encoder.json and the text of vocab.bpe. Requires the layout GPT-2
 * uses: 256 byte tokens, merge r producing id 256 + r (checked against the encoder), and any
 * remaining encoder entries (GPT-2: '<|endoftext|>' = 50256) taken as special tokens.
 */
export function gpt2FilesToJSON(encoder: unknown, vocabBpe: unknown): BPETokenizerJSON {
  if (typeof encoder !== 'object' || encoder === null || Array.isArray(encoder)) {
    fail('encoderJson must be the parsed encoder.json object (token string → id); use loadGPT2Files() to read files by path.');
  }
  if (typeof vocabBpe !== 'string') {
    fail('vocabBpe must be the text of vocab.bpe; use loadGPT2Files() to read files by path.');
  }
  const enc = new Map<string, number>();
  for (const [tok, id] of Object.entries(encoder)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      fail(`encoderJson maps ${JSON.stringify(tok)} to ${JSON.stringify(id)}; every id must be a non-negative integer.`);
    }
    enc.set(tok, id);
  }

  const alphabet = gpt2ByteToChar();
  const byteIds = alphabet.map((ch, b) => {
    const id = enc.get(ch);
    if (id === undefined) fail(`encoderJson has no token for byte ${b} (written ${JSON.stringify(ch)}); is it GPT-2's encoder.json?`);
    return id;
  });

  const lines = vocabBpe.split(/\r?\n/);
  const merges: [number, number][] = [];
  lines.forEach((line, i) => {
    if (line.length === 0 || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      fail(
        `vocab.bpe line ${i + 1} should be two tokens separated by one space, got ${JSON.stringify(line)}; ` +
          'vocabBpe must be the text of vocab.bpe, not its path (use loadGPT2Files() for paths).',
      );
    }
    const [left, right] = parts;
    const a = enc.get(left);
    const b = enc.get(right);
    if (a === undefined || b === undefined) {
      fail(`vocab.bpe line ${i + 1} (${JSON.stringify(line)}) names a token missing from encoderJson; are the two files from the same model?`);
    }
    const want = MERGE_BASE + merges.length;
    const got = enc.get(left + right);
    if (got !== want) {
      fail(
        `vocab.bpe line ${i + 1} merges into ${JSON.stringify(left + right)}, whose encoder id is ${String(got)}, not ${want}; ` +
          'tinygpt needs merge r to produce id 256 + r, as in GPT-2.',
      );
    }
    merges.push([a, b]);
  });
  if (merges.length === 0) fail('vocab.bpe has no merges; pass the text of the file, not its path (use loadGPT2Files() for paths).');

  const first = MERGE_BASE + merges.length;
  const specialTokens: [string, number][] = [];
  for (const [tok, id] of enc) if (id >= first) specialTokens.push([tok, id]);
  if (enc.size !== first + specialTokens.length) {
    fail(`encoderJson has ${enc.size} entries but 256 bytes + ${merges.length} merges + ${specialTokens.length} tokens with ids ≥ ${first} make ${first + specialTokens.length}; it has repeated ids or tokens no merge creates.`);
  }
  return {
    type: BPE_JSON_TYPE,
    version: 1,
    pattern: 'gpt2',
    byteIds,
    merges,
    specialTokens: Object.fromEntries(specialTokens),
  };
}

/** Reads encoder.json and vocab.bpe from disk (Node only) and converts them with {@link gpt2FilesToJSON}. */
export async function readGPT2Files(encoderPath: string, vocabPath: string): Promise<BPETokenizerJSON> {
  const read = async (path: string, what: string): Promise<string> => {
    try {
      // Loaded lazily through a variable, which bundlers do not follow: browser bundles of the
      // tokenizer never pull in node:fs.
      const { readFile } = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
      return await readFile(path, 'utf8');
    } catch (e) {
      throw new Error(`BPETokenizer.loadGPT2Files: cannot read ${what} at ${JSON.stringify(path)} (${(e as Error).message}); check the path.`);
    }
  };
  const [encText, vocabText] = await Promise.all([read(encoderPath, 'encoder.json'), read(vocabPath, 'vocab.bpe')]);
  let encoder: unknown;
  try {
    encoder = JSON.parse(encText) as unknown;
  } catch (e) {
    throw new Error(`BPETokenizer.loadGPT2Files: ${JSON.stringify(encoderPath)} is not valid JSON (${(e as Error).message}); pass GPT-2's encoder.json.`);
  }
  return gpt2FilesToJSON(encoder, vocabText);
}
