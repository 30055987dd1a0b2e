/**
 * The page: load a checkpoint (URL or folder), stream generated text into #output, and draw
 * the prompt's attention for a chosen layer and head in #attention. document.body.dataset.state
 * tells scripts and tests where it is: starting, empty, loading, ready, generating, done or
 * error; dataset.streaming is "true" while tokens arrive.
 */
import { SAMPLE_DEFAULTS } from '../src/sample/defaults.js';
import { generate } from '../src/sample/generate.js';
import { TextStopper, unescapeStop } from '../src/sample/stopText.js';
import { IncrementalDecoder } from '../src/sample/streamer.js';
import { computeAttention } from '../src/viz/attentionData.js';
import { AttentionView } from './attentionView.js';
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
  topP: byId<HTMLInputElement>('top-p'),
  seed: byId<HTMLInputElement>('seed'),
  greedy: byId<HTMLInputElement>('greedy'),
  stopStrings: byId<HTMLTextAreaElement>('stop-strings'),
  generate: byId<HTMLButtonElement>('generate'),
  stop: byId<HTMLButtonElement>('stop'),
  output: byId<HTMLPreElement>('output'),
};

const attention = new AttentionView({
  target: byId<HTMLDivElement>('attention'),
  layer: byId<HTMLSelectElement>('attn-layer'),
  head: byId<HTMLSelectElement>('attn-head'),
  excludeFirst: byId<HTMLInputElement>('exclude-first'),
});

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
    attention.setShape(next.model.config.nLayer, next.model.config.nHead);
    setState('ready', `Loaded ${describe(next)}`);
  } catch (e) {
    setState('error', `Could not load ${label}: ${(e as Error).message}`);
  }
}

/** Reads a number input, falling back to `dflt` when the field is empty. */
function numberIn(input: HTMLInputElement, dflt: number): number {
  return input.value.trim() === '' ? dflt : Number(input.value);
}

/** Computes (does not draw) the attention of the prompt's last blockSize tokens, what the model sees first. */
async function keepAttention(m: LoadedModel, ids: readonly number[]): Promise<void> {
  const window = ids.slice(-m.model.config.blockSize);
  const { maps } = await computeAttention(m.model, window);
  attention.set(maps, window.map((id) => m.tokenizer.decode([id])));
}

/** Stop strings, one per line (the escapes \n, \t and \\ are read as on the command line). */
function stopStrings(): string[] {
  return ui.stopStrings.value.split('\n').filter((line) => line.length > 0).map(unescapeStop);
}

/** Greedy or sampling options from the form, with the CLI's defaults for empty fields. */
function samplingOptions(): { doSample: boolean; temperature?: number; topK?: number; topP?: number } {
  if (ui.greedy.checked) return { doSample: false };
  return {
    doSample: true,
    temperature: numberIn(ui.temperature, SAMPLE_DEFAULTS.temperature),
    topK: numberIn(ui.topK, SAMPLE_DEFAULTS.topK),
    topP: numberIn(ui.topP, SAMPLE_DEFAULTS.topP),
  };
}

/** Appends streamed text once per animation frame: one layout per frame, not one per token. */
class FrameWriter {
  private pending = '';
  private frame = 0;

  constructor(private readonly target: HTMLElement) {}

  write(text: string): void {
    this.pending += text;
    if (this.frame === 0 && this.pending.length > 0) this.frame = requestAnimationFrame(() => this.flush());
  }

  flush(): void {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (this.pending.length > 0) this.target.append(this.pending);
    this.pending = '';
  }
}

async function run(): Promise<void> {
  const m = loaded;
  if (m === undefined) return;
  const controller = new AbortController();
  running = controller;
  ui.output.textContent = '';
  attention.clear();
  const writer = new FrameWriter(ui.output);
  try {
    const prompt = ui.prompt.value;
    if (prompt.length === 0) throw new Error('the prompt is empty; type at least one character (a newline works).');
    const ids = m.tokenizer.encode(prompt);
    const stopper = new TextStopper(stopStrings());
    setState('generating', 'Generating…');
    await keepAttention(m, ids);
    const shown = document.createElement('span');
    shown.className = 'prompt';
    shown.textContent = prompt;
    ui.output.append(shown);
    let count = 0;
    const started = performance.now();
    const tokens = generate(m.model, ids, {
      maxNewTokens: numberIn(ui.maxTokens, SAMPLE_DEFAULTS.maxNewTokens),
      ...samplingOptions(),
      seed: numberIn(ui.seed, SAMPLE_DEFAULTS.seed),
      signal: controller.signal,
      onToken: () => void (count += 1),
    });
    const decoder = new IncrementalDecoder((t) => m.tokenizer.decode(t));
    document.body.dataset.streaming = 'true';
    let stopped = false;
    try {
      for await (const id of tokens) {
        const step = stopper.push(decoder.push(id));
        writer.write(step.text);
        if (step.stop) {
          stopped = true;
          break;
        }
      }
      if (!stopped) {
        const step = stopper.push(decoder.flush());
        writer.write(step.stop ? step.text : step.text + stopper.flush());
      }
    } finally {
      writer.flush();
      document.body.dataset.streaming = 'false';
    }
    // Drawn once, after the token loop, so a large heatmap never costs streaming speed.
    attention.render();
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
// The form starts from the CLI's defaults (tinygpt sample), kept in one place.
ui.maxTokens.value = String(SAMPLE_DEFAULTS.maxNewTokens);
ui.temperature.value = String(SAMPLE_DEFAULTS.temperature);
ui.topK.value = String(SAMPLE_DEFAULTS.topK);
ui.topP.value = String(SAMPLE_DEFAULTS.topP);
ui.seed.value = String(SAMPLE_DEFAULTS.seed);
// Greedy decoding uses no temperature, top-k or top-p: grey them out.
const syncGreedy = (): void => {
  for (const input of [ui.temperature, ui.topK, ui.topP]) input.disabled = ui.greedy.checked;
};
ui.greedy.addEventListener('change', syncGreedy);
syncGreedy();

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
