/**
 * The demo page (web/) in headless Chromium: built with Vite's JS API, served by Vite's
 * preview server with a tiny checkpoint at /ckpt/, then loaded, generating and drawing.
 * Runs once, in the node project (the page brings its own backend; Node's reference output is
 * computed on wasm). Skips without Chromium, saying how to get it, except in CI (CI set), where it fails.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../src/io/checkpoint.js';
import { GPT } from '../src/model/gpt.js';
import { generateAll } from '../src/sample/generate.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { attentionColor } from '../src/viz/colorScale.js';
import { webConfig } from '../web/config.js';
import { recordNodeImports } from './viteNodeImports.js';

const CHROMIUM = process.env.TINYGPT_CHROMIUM || '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const how = `${CHROMIUM} not found (install it with: apt-get install -y chromium, or set TINYGPT_CHROMIUM to its path)`;
  // In CI a missing browser is a broken set-up, not a reason to pass: .ci/run installs it.
  if (process.env.CI) throw new Error(`test/web.test.ts needs Chromium in CI: ${how}.`);
  console.warn(`test/web.test.ts skipped: ${how}.`);
}

const CORPUS = 'the cat sat on the mat. the dog ate the hat.\n';
const PROMPT = 'the cat';
const NEW_TOKENS = 20;
const [N_LAYER, N_HEAD] = [2, 2];

describe.skipIf(!haveChromium)('web page in headless Chromium', () => {
  let scratch: string;
  let server: PreviewServer;
  let browser: BrowserContext;
  let page: Page;
  let origin: string;
  let expected: string;
  const nodeImports: string[] = [];

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
    expected = tokenizer.decode(await generateAll(model, tokenizer.encode(PROMPT), { maxNewTokens: NEW_TOKENS, temperature: 0 }));
    model.dispose();

    const config = webConfig({ checkpointDir: runDir, outDir: join(scratch, 'dist'), logLevel: 'silent', plugins: [recordNodeImports(nodeImports)] });
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

  it('builds without importing any Node built-in (no stubs needed)', () => {
    expect(nodeImports).toEqual([]);
  });

  it('loads the served checkpoint, streams text and draws the prompt attention', async () => {
    await page.goto(origin);
    const loaded = await settle('ready', 'error', 'empty');
    expect(loaded.status).toMatch(/2 layers × 2 heads, width 16, context 32/);
    expect(loaded.status).toMatch(/\(backend wasm\)/); // the wasm binaries were served, no cpu fallback
    expect(loaded.state).toBe('ready');

    await page.fill('#prompt', PROMPT);
    await page.fill('#max-tokens', String(NEW_TOKENS));
    await page.fill('#temperature', '0');
    await page.click('#generate');
    const done = await settle('done', 'error');
    expect(done.state, done.status).toBe('done');

    // Greedy decoding: the prompt, then exactly the 20 characters Node's generate picks.
    const output = (await page.textContent('#output')) ?? '';
    expect(output).toBe(PROMPT + expected);
    expect(expected.length).toBe(NEW_TOKENS);

    // One panel per layer and head, T×T cells each: 2·2·7·7 = 196 for the 7-character prompt.
    const t = PROMPT.length;
    expect(await page.locator('#attention svg g.panel').count()).toBe(N_LAYER * N_HEAD);
    expect(await page.locator('#attention svg rect.cell').count()).toBe(N_LAYER * N_HEAD * t * t);
    // The first query can only see itself (weight 1, darkest); the causal mask zeroes the rest of its row (white).
    const firstRow = await page.locator('#attention svg g.panel').first().locator('rect.cell').evaluateAll(
      (cells, n) => cells.slice(0, n).map((c) => c.getAttribute('fill')),
      t,
    );
    expect(firstRow).toEqual([attentionColor(1), ...Array(t - 1).fill(attentionColor(0))]);
    // The SVG really renders: the first panel has the size of 7 cells.
    const box = await page.locator('#attention svg g.panel rect.frame').first().boundingBox();
    expect(box?.width).toBeGreaterThan(t * 5);

    const shot = join(scratch, 'page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    const keep = process.env.TINYGPT_WEB_SCREENSHOT;
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
