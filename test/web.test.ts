/**
 * The demo page (web/) in headless Chromium: built with Vite's JS API, served by Vite's
 * preview server with a tiny checkpoint at /ckpt/, then loaded, generating and drawing.
 * Runs in the wasm project only (the page brings its own backend) and skips without
 * /usr/bin/chromium (Debian: apt-get install -y chromium).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { saveCheckpoint } from '../src/io/checkpoint.js';
import { GPT } from '../src/model/gpt.js';
import { SAMPLE_DEFAULTS } from '../src/sample/defaults.js';
import { generateAll } from '../src/sample/generate.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { attentionColor, EXCLUDED_COLOR } from '../src/viz/colorScale.js';
import { webConfig } from '../web/config.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const onWasmProject = process.env.TINYGPT_BACKEND !== 'cpu';
if (!haveChromium && onWasmProject) {
  console.warn(`test/web.test.ts skipped: ${CHROMIUM} not found (install it with: apt-get install -y chromium).`);
}

const CORPUS = 'the cat sat on the mat. the dog ate the hat.\n';
const PROMPT = 'the cat';
const NEW_TOKENS = 20;
const [N_LAYER, N_HEAD] = [2, 2];

describe.skipIf(!haveChromium || !onWasmProject)('web page in headless Chromium', () => {
  let scratch: string;
  let server: PreviewServer;
  let browser: BrowserContext;
  let page: Page;
  let origin: string;
  let expected: string;
  let sampled: string;
  const SAMPLED = { doSample: true, temperature: 0.8, topK: 5, topP: 0.9, seed: 42 };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tinygpt-web-'));
    // A training output folder: ckpt/ plus a file that is not part of the checkpoint.
    const runDir = join(scratch, 'run');
    const tokenizer = CharTokenizer.fromText(CORPUS);
    const model = new GPT({ vocabSize: tokenizer.vocabSize, nLayer: N_LAYER, nHead: N_HEAD, nEmbd: 16, blockSize: 32, seed: 7 });
    await saveCheckpoint(join(runDir, 'ckpt'), {
      config: { model_type: 'tinygpt', ...model.config },
      weights: model.namedWeights(),
      tokenizer: tokenizer.toJSON(),
    });
    writeFileSync(join(runDir, 'metrics.jsonl'), '');
    // What Node generates greedily; the page runs the same weights on the same wasm kernels.
    expected = tokenizer.decode(await generateAll(model, tokenizer.encode(PROMPT), { maxNewTokens: NEW_TOKENS }));
    sampled = tokenizer.decode(await generateAll(model, tokenizer.encode(PROMPT), { maxNewTokens: NEW_TOKENS, ...SAMPLED }));
    model.dispose();

    const config = webConfig({ checkpointDir: runDir, outDir: join(scratch, 'dist'), logLevel: 'silent' });
    await build({ ...config, configFile: false });
    server = await preview({ ...config, configFile: false, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
    origin = `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}/`;

    // A fresh profile per run (Playwright passes it as --user-data-dir), inside scratch so it is removed.
    browser = await chromium.launchPersistentContext(join(scratch, 'profile'), {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1000, height: 900 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** Waits until the page reports one of `states` and returns it with the status line. */
  async function settle(...states: string[]): Promise<{ state: string; status: string }> {
    await page.waitForFunction((s) => s.includes(document.body.dataset.state ?? ''), states, { timeout: 20_000 });
    return { state: (await page.getAttribute('body', 'data-state')) ?? '', status: (await page.textContent('#status')) ?? '' };
  }

  it('starts from the CLI\'s sampling defaults', async () => {
    await page.goto(origin);
    expect((await settle('ready', 'error', 'empty')).state).toBe('ready');
    const fields = await page.evaluate(() =>
      ['max-tokens', 'temperature', 'top-k', 'top-p', 'seed'].map((id) => Number((document.getElementById(id) as HTMLInputElement).value)));
    const d = SAMPLE_DEFAULTS;
    expect(fields).toEqual([d.maxNewTokens, d.temperature, d.topK, d.topP, d.seed]);
    expect(await page.isChecked('#greedy')).toBe(false);
  });

  it('loads the served checkpoint, streams text and draws the chosen head\'s attention once, after the tokens', async () => {
    await page.goto(origin);
    const loaded = await settle('ready', 'error', 'empty');
    expect(loaded.status).toMatch(/2 layers × 2 heads, width 16, context 32/);
    expect(loaded.state).toBe('ready');
    expect(await page.locator('#attn-layer option').allTextContents()).toEqual(['0', '1']);

    // Counts changes to #attention made while tokens stream: the heatmap must stay out of the loop.
    await page.evaluate(() => {
      const w = window as unknown as { attentionDuringStream: number };
      w.attentionDuringStream = 0;
      new MutationObserver(() => {
        if (document.body.dataset.streaming === 'true') w.attentionDuringStream += 1;
      }).observe(document.getElementById('attention') as HTMLElement, { childList: true, subtree: true, attributes: true });
    });
    await page.fill('#prompt', PROMPT);
    await page.fill('#max-tokens', String(NEW_TOKENS));
    await page.check('#greedy');
    expect(await page.isDisabled('#temperature')).toBe(true);
    await page.selectOption('#attn-layer', '1');
    await page.selectOption('#attn-head', '1');
    await page.click('#generate');
    const done = await settle('done', 'error');
    expect(done.state, done.status).toBe('done');

    // Greedy decoding: the prompt, then exactly the 20 characters Node's generate picks.
    const output = (await page.textContent('#output')) ?? '';
    expect(output).toBe(PROMPT + expected);
    expect(expected.length).toBe(NEW_TOKENS);
    expect(await page.evaluate(() => (window as unknown as { attentionDuringStream: number }).attentionDuringStream)).toBe(0);
    expect(await page.getAttribute('body', 'data-attention-renders')).toBe('1');

    // The chosen layer and head only: T×T = 49 cells for the 7-character prompt.
    const t = PROMPT.length;
    expect(await page.locator('#attention svg g.panel').count()).toBe(1);
    expect(await page.getAttribute('#attention svg g.panel', 'data-layer')).toBe('1');
    expect(await page.getAttribute('#attention svg g.panel', 'data-head')).toBe('1');
    expect(await page.locator('#attention svg rect.cell').count()).toBe(t * t);
    // The first query can only see itself (weight 1, darkest); the causal mask zeroes the rest of its row (white).
    const firstRow = await page.locator('#attention svg g.panel').first().locator('rect.cell').evaluateAll(
      (cells, n) => cells.slice(0, n).map((c) => c.getAttribute('fill')),
      t,
    );
    expect(firstRow).toEqual([attentionColor(1), ...Array(t - 1).fill(attentionColor(0))]);
    // The SVG really renders: the first panel has the size of 7 cells.
    const box = await page.locator('#attention svg g.panel rect.frame').first().boundingBox();
    expect(box?.width).toBeGreaterThan(t * 5);

    // Another head or the first token left out of the scale: redrawn from the kept weights, no new generation.
    await page.selectOption('#attn-head', '0');
    expect(await page.getAttribute('#attention svg g.panel', 'data-head')).toBe('0');
    await page.check('#exclude-first');
    expect(await page.locator('#attention svg rect.cell').first().getAttribute('fill')).toBe(EXCLUDED_COLOR);
    expect(await page.getAttribute('body', 'data-attention-renders')).toBe('3');
    expect(await page.getAttribute('body', 'data-state')).toBe('done');

    const shot = join(scratch, 'page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    const keep = process.env.TINYGPT_WEB_SCREENSHOT;
    if (keep) {
      mkdirSync(join(keep, '..'), { recursive: true });
      copyFileSync(shot, keep);
    }
  });

  it('samples with top-k, top-p and a seed as Node does, and cuts at a stop string', async () => {
    await page.uncheck('#greedy');
    await page.fill('#temperature', String(SAMPLED.temperature));
    await page.fill('#top-k', String(SAMPLED.topK));
    await page.fill('#top-p', String(SAMPLED.topP));
    await page.fill('#seed', String(SAMPLED.seed));
    await page.click('#generate');
    expect((await settle('done', 'error')).state).toBe('done');
    expect(await page.textContent('#output')).toBe(PROMPT + sampled);
    expect(sampled).not.toBe(expected);
    // Greedy again with two stop strings (one escaped newline that never occurs): cut before the first match.
    await page.check('#greedy');
    const stop = expected.slice(6, 8);
    await page.fill('#stop-strings', `\\n\\n\n${stop}`);
    await page.click('#generate');
    expect((await settle('done', 'error')).state).toBe('done');
    expect(await page.textContent('#output')).toBe(PROMPT + expected.slice(0, expected.indexOf(stop)));
    await page.fill('#stop-strings', '');
  });

  it('fits a phone-width (390 px) screen without sideways scrolling', async () => {
    const phone = await browser.newPage();
    onTestFinished(() => phone.close());
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(origin);
    await phone.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 20_000 });
    await phone.fill('#prompt', 'the cat sat on the mat. the dog');
    await phone.fill('#max-tokens', '40');
    await phone.click('#generate');
    await phone.waitForFunction(() => document.body.dataset.state === 'done', undefined, { timeout: 20_000 });
    expect(await phone.locator('#attention svg').count()).toBe(1);
    // Nothing is wider than the screen: the heatmap scrolls inside its own box.
    const wide = await phone.evaluate(() =>
      [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 390 && !e.closest('#attention > svg'))
        .map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`));
    expect(wide).toEqual([]);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const shot = join(scratch, 'phone.png');
    await phone.screenshot({ path: shot, fullPage: true });
    const keep = process.env.TINYGPT_WEB_PHONE_SCREENSHOT;
    if (keep) {
      mkdirSync(join(keep, '..'), { recursive: true });
      copyFileSync(shot, keep);
    }
  });

  it('loads a checkpoint from a picked folder (its ckpt/ subfolder)', async () => {
    await page.setInputFiles('#ckpt-files', join(scratch, 'run'));
    const r = await settle('ready', 'error');
    expect(r.state, r.status).toBe('ready');
    expect(r.status).toMatch(/^Loaded run\/ckpt\/: 2 layers/);
  });

  it('shows a clear error for a checkpoint URL that is not there', async () => {
    await page.goto(`${origin}?checkpoint=missing/`);
    const r = await settle('error', 'ready');
    expect(r.state).toBe('error');
    expect(r.status).toMatch(/missing\/config\.json: HTTP 404/);
  });
});
