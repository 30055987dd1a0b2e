/**
 * Loading a checkpoint in the browser: config.json, model.safetensors and tokenizer.json,
 * fetched from a URL folder or picked from disk. Only browser-safe modules are imported (no
 * file system); the bytes go through the same parser and weight checks as in Node.
 */
import { GPT } from '../src/model/gpt.js';
import { fillModel } from '../src/pretrained/loadPlan.js';
import { tokenizerFromJSON, type Tokenizer } from '../src/tokenizer/load.js';
import { readCheckedWeights, type CheckedWeights } from './weightsStream.js';

/** A model ready to run, with its tokenizer and where it came from. */
export interface LoadedModel {
  readonly model: GPT;
  readonly tokenizer: Tokenizer;
  /** The URL or folder name, for the status line. */
  readonly source: string;
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

/**
 * Builds the model, as loadPretrained does in Node: config.json (tinygpt, HF GPT-2, Llama or
 * Gemma 3) is checked against the weights' header before anything is allocated; `weights`
 * receives the parsed config and does that check as it reads.
 */
async function build(
  configText: string,
  tokenizerText: string,
  weights: (json: Record<string, unknown>, label: string, configLabel: string) => Promise<CheckedWeights>,
  source: string,
): Promise<LoadedModel> {
  const configLabel = `${source}config.json`;
  const json = parseJson(configText, configLabel);
  const tokenizer = tokenizerFromJSON(parseJson(tokenizerText, `${source}tokenizer.json`));
  const label = `${source}model.safetensors`;
  const { plan, names, read } = await weights(json, label, configLabel);
  if (tokenizer.vocabSize > plan.config.vocabSize) {
    throw new Error(`${source}: the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${plan.config.vocabSize}.`);
  }
  const model = new GPT(plan.config);
  try {
    await fillModel(model.namedWeights(), plan, names, read, label);
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
  const [config, tokenizer] = await Promise.all([
    fetchOk(new URL('config.json', folder)).then((r) => r.text()),
    fetchOk(new URL('tokenizer.json', folder)).then((r) => r.text()),
  ]);
  return build(config, tokenizer, async (json, label, configLabel) => {
    const res = await fetchOk(new URL('model.safetensors', folder));
    if (res.body === null) throw new Error(`${label}: the server sent no body.`);
    // Content-Length is the file's size unless the server compressed it on the way.
    const length = res.headers.get('Content-Encoding') ? null : res.headers.get('Content-Length');
    const n = length === null ? undefined : Number(length);
    return readCheckedWeights(res.body, n !== undefined && Number.isSafeInteger(n) ? n : undefined, json, label, configLabel);
  }, folder.href);
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
  const [config, tokenizer] = await Promise.all([configs[0].text(), pick('tokenizer.json').text()]);
  const weights = pick('model.safetensors');
  return build(config, tokenizer, (json, label, configLabel) => readCheckedWeights(weights.stream(), weights.size, json, label, configLabel), dir || './');
}
