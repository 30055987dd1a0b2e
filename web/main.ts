/**
 * The page: load a checkpoint (URL or folder), stream generated text into #output, and draw
 * the prompt's attention in #attention. document.body.dataset.state tells scripts and tests
 * where it is: starting, empty, loading, ready, generating, done or error.
 */
import { generate } from '../src/sample/generate.js';
import { streamText } from '../src/sample/streamer.js';
import { computeAttention } from '../src/viz/attentionData.js';
import { attentionHeatmapSvg } from '../src/viz/heatmap.js';
import { initBackend } from './backend.js';
import { loadFromFiles, loadFromUrl, type LoadedModel } from './checkpoint.js';

type State = 'starting' | 'empty' | 'loading' | 'ready' | 'generating' | 'done' | 'error';

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`index.html lacks #${id}`);
  return e as T;
}

const ui = {
  urlForm: byId<HTMLFormElement>('url-form'),
  url: byId<HTMLInputElement>('ckpt-url'),
  files: byId<HTMLInputElement>('ckpt-files'),
  status: byId<HTMLParagraphElement>('status'),
  prompt: byId<HTMLTextAreaElement>('prompt'),
  maxTokens: byId<HTMLInputElement>('max-tokens'),
  temperature: byId<HTMLInputElement>('temperature'),
  topK: byId<HTMLInputElement>('top-k'),
  seed: byId<HTMLInputElement>('seed'),
  generate: byId<HTMLButtonElement>('generate'),
  stop: byId<HTMLButtonElement>('stop'),
  output: byId<HTMLPreElement>('output'),
  attention: byId<HTMLDivElement>('attention'),
};

let backend = '';
let loaded: LoadedModel | undefined;
let running: AbortController | undefined;

function setState(state: State, message: string): void {
  document.body.dataset.state = state;
  ui.status.textContent = message;
  ui.generate.disabled = loaded === undefined || state === 'generating' || state === 'loading';
  ui.stop.disabled = state !== 'generating';
}

function describe(m: LoadedModel): string {
  const c = m.model.config;
  const params = (m.model.numParams() / 1e6).toFixed(2);
  return `${m.source}: ${c.nLayer} layers × ${c.nHead} heads, width ${c.nEmbd}, context ${c.blockSize}, ${params}M parameters, vocabulary ${m.tokenizer.vocabSize} (backend ${backend}).`;
}

async function load(what: () => Promise<LoadedModel>, label: string): Promise<void> {
  running?.abort();
  setState('loading', `Loading ${label}…`);
  try {
    const next = await what();
    loaded?.model.dispose();
    loaded = next;
    setState('ready', `Loaded ${describe(next)}`);
  } catch (e) {
    setState('error', `Could not load ${label}: ${(e as Error).message}`);
  }
}

/** Reads a number input, falling back to `dflt` when the field is empty. */
function numberIn(input: HTMLInputElement, dflt: number): number {
  return input.value.trim() === '' ? dflt : Number(input.value);
}

/** Draws the heatmaps of the prompt's last blockSize tokens (what the model sees first). */
async function showAttention(m: LoadedModel, ids: readonly number[]): Promise<void> {
  const window = ids.slice(-m.model.config.blockSize);
  const { maps } = await computeAttention(m.model, window);
  const tokens = window.map((id) => m.tokenizer.decode([id]));
  ui.attention.innerHTML = attentionHeatmapSvg(maps, tokens, { tooltips: true, idPrefix: 'prompt-attn', title: 'Attention over the prompt' });
}

async function run(): Promise<void> {
  const m = loaded;
  if (m === undefined) return;
  const controller = new AbortController();
  running = controller;
  ui.output.textContent = '';
  ui.attention.textContent = '';
  try {
    const prompt = ui.prompt.value;
    if (prompt.length === 0) throw new Error('the prompt is empty; type at least one character (a newline works).');
    const ids = m.tokenizer.encode(prompt);
    setState('generating', 'Generating…');
    await showAttention(m, ids);
    const shown = document.createElement('span');
    shown.className = 'prompt';
    shown.textContent = prompt;
    ui.output.append(shown);
    let count = 0;
    const started = performance.now();
    const tokens = generate(m.model, ids, {
      maxNewTokens: numberIn(ui.maxTokens, 200),
      doSample: true,
      temperature: numberIn(ui.temperature, 0.8),
      topK: numberIn(ui.topK, 40),
      seed: numberIn(ui.seed, 1337),
      signal: controller.signal,
      onToken: () => void (count += 1),
    });
    for await (const piece of streamText(tokens, (t) => m.tokenizer.decode(t))) ui.output.append(piece);
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? ` (${(count / seconds).toFixed(1)} tokens/s)` : '';
    setState('done', `${controller.signal.aborted ? 'Stopped' : 'Done'}: ${count} tokens in ${seconds.toFixed(2)} s${rate}. ${describe(m)}`);
  } catch (e) {
    setState('error', `Generation failed: ${(e as Error).message}`);
  } finally {
    if (running === controller) running = undefined;
  }
}

ui.urlForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const url = ui.url.value.trim();
  if (url === '') setState('error', 'Type a folder URL holding config.json, model.safetensors and tokenizer.json.');
  else void load(() => loadFromUrl(url), url);
});
ui.files.addEventListener('change', () => {
  const files = [...(ui.files.files ?? [])];
  if (files.length > 0) void load(() => loadFromFiles(files), 'the chosen folder');
});
ui.generate.addEventListener('click', () => void run());
ui.stop.addEventListener('click', () => running?.abort());

async function start(): Promise<void> {
  try {
    backend = await initBackend();
  } catch (e) {
    setState('error', (e as Error).message);
    return;
  }
  // ?checkpoint=URL wins; otherwise the checkpoint the dev server was started with, if any.
  const fromQuery = new URLSearchParams(window.location.search).get('checkpoint');
  const fromServer = document.querySelector<HTMLMetaElement>('meta[name="tinygpt-checkpoint"]')?.content;
  const url = fromQuery ?? fromServer;
  if (url) {
    ui.url.value = url;
    await load(() => loadFromUrl(url), url);
  } else {
    setState('empty', `Backend ${backend}. Load a checkpoint: type its folder URL, add ?checkpoint=URL to the address, or choose a folder.`);
  }
}

void start();
