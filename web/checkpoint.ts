/**
 * Loading a checkpoint in the browser: config.json, model.safetensors and tokenizer.json,
 * fetched from a URL folder or picked from disk. Only browser-safe modules are imported (no
 * file system); the bytes go through the same parser and weight checks as in Node.
 */
import { parseSafetensors } from '../src/io/safetensorsParse.js';
import { resolveConfig, type GPTConfig } from '../src/config/config.js';
import { GPT } from '../src/model/gpt.js';
import { fromHFConfig, isHFGPT2Config } from '../src/pretrained/hfGpt2Config.js';
import { assignWeights, normalizeWeightNames } from '../src/io/weights.js';
import { tokenizerFromJSON, type Tokenizer } from '../src/tokenizer/load.js';

/** A model ready to run, with its tokenizer and where it came from. */
export interface LoadedModel {
  readonly model: GPT;
  readonly tokenizer: Tokenizer;
  /** The URL or folder name, for the status line. */
  readonly source: string;
}

/** The three files a checkpoint needs, as raw content. */
interface CheckpointFiles {
  readonly config: string;
  readonly weights: Uint8Array;
  readonly tokenizer: string;
}

function parseJson(text: string, label: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${label}: malformed JSON (${(e as Error).message}).`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${label}: expected a JSON object.`);
  return json as Record<string, unknown>;
}

/** Builds the model from file contents, as loadTrained does in Node (tinygpt or Hugging Face GPT-2 config). */
function build(files: CheckpointFiles, source: string): LoadedModel {
  const json = parseJson(files.config, `${source}config.json`);
  const config = isHFGPT2Config(json) ? fromHFConfig(json, `${source}config.json`) : resolveConfig((json.model ?? json) as GPTConfig);
  const tokenizer = tokenizerFromJSON(parseJson(files.tokenizer, `${source}tokenizer.json`));
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(`${source}: the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${config.vocabSize}.`);
  }
  const label = `${source}model.safetensors`;
  const { tensors } = parseSafetensors(files.weights, label);
  const model = new GPT(config);
  try {
    assignWeights(model.namedWeights(), normalizeWeightNames(tensors, config.tieEmbeddings), label);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer, source };
}

async function fetchOk(url: URL): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not fetch ${url.href} (${(e as Error).message}); is the server running?`);
  }
  if (!res.ok) throw new Error(`${url.href}: HTTP ${res.status}; the folder needs config.json, model.safetensors and tokenizer.json.`);
  // Servers with a single-page fallback answer a missing file with their index.html.
  if ((res.headers.get('Content-Type') ?? '').startsWith('text/html')) {
    throw new Error(`${url.href}: the server sent an HTML page, not the file; check the folder URL.`);
  }
  return res;
}

/** Fetches a checkpoint from a folder URL (relative to the page), e.g. "ckpt/" or "/models/shakespeare/". */
export async function loadFromUrl(base: string): Promise<LoadedModel> {
  const folder = new URL(base.endsWith('/') ? base : `${base}/`, window.location.href);
  const [config, weights, tokenizer] = await Promise.all([
    fetchOk(new URL('config.json', folder)).then((r) => r.text()),
    fetchOk(new URL('model.safetensors', folder)).then(async (r) => new Uint8Array(await r.arrayBuffer())),
    fetchOk(new URL('tokenizer.json', folder)).then((r) => r.text()),
  ]);
  return build({ config, weights, tokenizer }, folder.href);
}

/** The folder part of a picked file's path ("run/ckpt/config.json" → "run/ckpt/"). */
function folderOf(file: File): string {
  const rel = file.webkitRelativePath || file.name;
  return rel.slice(0, rel.lastIndexOf('/') + 1);
}

/**
 * Loads from files chosen with <input type="file" webkitdirectory multiple>: the folder
 * holding config.json nearest the top (so a training output folder with ckpt/ works too),
 * with model.safetensors and tokenizer.json from the same folder.
 */
export async function loadFromFiles(files: readonly File[]): Promise<LoadedModel> {
  const configs = files.filter((f) => f.name === 'config.json').sort((a, b) => folderOf(a).length - folderOf(b).length);
  if (configs.length === 0) {
    throw new Error('The chosen folder has no config.json: choose the folder written by tinygpt train (or its ckpt/ subfolder).');
  }
  const dir = folderOf(configs[0]);
  const pick = (name: string): File => {
    const f = files.find((x) => x.name === name && folderOf(x) === dir);
    if (f === undefined) throw new Error(`${dir || 'the chosen folder'} has config.json but no ${name}; a checkpoint needs both.`);
    return f;
  };
  const [config, weights, tokenizer] = await Promise.all([
    configs[0].text(),
    pick('model.safetensors').arrayBuffer().then((b) => new Uint8Array(b)),
    pick('tokenizer.json').text(),
  ]);
  return build({ config, weights, tokenizer }, dir || './');
}
