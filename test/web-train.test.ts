/**
 * Data-parallel training in a browser: test/fixtures/train-page (tinygpt's sources, bundled by
 * Vite with its Web Worker replicas) in headless Chromium, served twice from one build: with the
 * COOP/COEP headers that make the page cross-origin isolated (SharedArrayBuffer), and without.
 * Runs once, in the node project. Skips without Chromium, saying how to get it, except in CI.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type InlineConfig, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordNodeImports } from './viteNodeImports.js';

const CHROMIUM = process.env.TINYGPT_CHROMIUM || '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const how = `${CHROMIUM} not found (install it with: apt-get install -y chromium, or set TINYGPT_CHROMIUM to its path)`;
  // In CI a missing browser is a broken set-up, not a reason to pass: .ci/run installs it.
  if (process.env.CI) throw new Error(`test/web-train.test.ts needs Chromium in CI: ${how}.`);
  console.warn(`test/web-train.test.ts skipped: ${how}.`);
}

const ROOT = fileURLToPath(new URL('fixtures/train-page/', import.meta.url));
/** The headers that make a page cross-origin isolated, so that it has SharedArrayBuffer. */
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** What the page's train(workers) returns. */
interface Run {
  readonly losses: number[];
  readonly workers: number;
}

interface TrainPage {
  train(workers: number | 'auto'): Promise<Run>;
  fault(): Promise<string>;
  isolated: boolean;
}

describe.skipIf(!haveChromium)('data-parallel training in headless Chromium', () => {
  let scratch: string;
  const servers: PreviewServer[] = [];
  let browser: Browser;
  const nodeImports: string[] = [];
  const origins: { isolated: string; plain: string } = { isolated: '', plain: '' };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tinygpt-web-train-'));
    const config: InlineConfig = {
      root: ROOT,
      base: './',
      configFile: false,
      logLevel: 'silent',
      plugins: [recordNodeImports(nodeImports)],
      build: { outDir: join(scratch, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
    };
    await build(config);
    const serve = async (headers: Record<string, string>): Promise<string> => {
      const server = await preview({ ...config, preview: { host: '127.0.0.1', port: 0, strictPort: false, headers } });
      servers.push(server);
      return `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}/`;
    };
    origins.isolated = await serve(ISOLATION);
    origins.plain = await serve({});
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.httpServer.close(() => resolve()))));
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** Opens the page at `origin` and waits until its backend is up. */
  async function open(origin: string): Promise<Page> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(origin);
    await page.waitForFunction(() => document.body.dataset.ready !== undefined, undefined, { timeout: 30_000 });
    expect(await page.getAttribute('body', 'data-ready'), errors.join('\n')).toBe('wasm');
    return page;
  }

  const train = (page: Page, workers: number | 'auto') =>
    page.evaluate((w) => (window as unknown as { trainPage: TrainPage }).trainPage.train(w), workers);

  it('bundles the page and its worker without any Node built-in', () => {
    expect(nodeImports).toEqual([]);
  });

  it('trains on 2 Web Workers with the losses of 1 thread, and learns', { timeout: 60_000 }, async () => {
    const page = await open(origins.isolated);
    try {
      expect(await page.evaluate(() => (window as unknown as { trainPage: TrainPage }).trainPage.isolated)).toBe(true);
      const one = await train(page, 1);
      const two = await train(page, 2);
      expect(one.workers).toBe(0);
      expect(two.workers).toBe(2);
      expect(two.losses).toHaveLength(10);
      const diffs = two.losses.map((l, i) => Math.abs(l - one.losses[i]));
      expect(Math.max(...diffs), `1 thread ${one.losses}\n2 workers ${two.losses}`).toBeLessThan(1e-5);
      // It learns: the last 3 steps' mean is clearly below the first step's loss.
      const last = two.losses.slice(-3).reduce((a, b) => a + b, 0) / 3;
      expect(last).toBeLessThan(two.losses[0] - 0.3);
      // 'auto' in an isolated page: one replica per core, capped by the step's 4 rows (none on 1 core).
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      const auto = await train(page, 'auto');
      expect(auto.workers).toBe(cores < 2 ? 0 : Math.min(cores, 4));
      expect(Math.max(...auto.losses.map((l, i) => Math.abs(l - one.losses[i])))).toBeLessThan(1e-5);
    } finally {
      await page.close();
    }
  });

  it('ends the run naming the worker that threw and its cause', { timeout: 60_000 }, async () => {
    const page = await open(origins.isolated);
    try {
      const message = await page.evaluate(() => (window as unknown as { trainPage: TrainPage }).trainPage.fault());
      expect(message).toMatch(/^workers: worker 2 of 2 failed: it threw .*injected fault in the replica\. Training stopped/);
      // The page goes on: a new run starts fresh replicas.
      expect((await train(page, 2)).losses).toHaveLength(10);
    } finally {
      await page.close();
    }
  });

  it("runs 'auto' on one thread without isolation, and says how to get workers when they are asked for", { timeout: 60_000 }, async () => {
    const page = await open(origins.plain);
    try {
      expect(await page.evaluate(() => (window as unknown as { trainPage: TrainPage }).trainPage.isolated)).toBe(false);
      const auto = await train(page, 'auto');
      expect(auto.workers).toBe(0);
      expect(auto.losses).toHaveLength(10);
      const refused = await page.evaluate(() =>
        (window as unknown as { trainPage: TrainPage }).trainPage.train(2).then(
          () => 'no error',
          (e: Error) => e.message,
        ),
      );
      expect(refused).toMatch(/not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp.*workers: 1/);
    } finally {
      await page.close();
    }
  });
});
