/**
 * The package as a user installs it: `npm pack`, then an empty project installs the tarball
 * offline (from the npm cache the repository's own install filled), type-checks the README's
 * quickstart with `tsc --strict` and no skipLibCheck, runs it (train → generate on wasm), and
 * checks what the tarball holds and what the install weighs; then builds a minimal Vite app on
 * the installed package and runs it in headless Chromium on the wasm backend. Runs once (the
 * node project). Without Chromium the browser part skips, saying how to get it (fails in CI).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordNodeImports } from './viteNodeImports.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const CHROMIUM = process.env.TINYGPT_CHROMIUM || '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const how = `${CHROMIUM} not found (apt-get install -y chromium, or set TINYGPT_CHROMIUM)`;
  if (process.env.CI) throw new Error(`test/package.test.ts needs Chromium in CI: ${how}.`);
  console.warn(`test/package.test.ts: the browser app test skips: ${how}.`);
}
const TYPES_NODE = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string }
).version;

/** Bytes under a folder (files and symlinks themselves, as `du` counts them, roughly). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(p) : lstatSync(p).size;
  }
  return total;
}

function run(cmd: string, args: readonly string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('the packed package in a fresh project', { timeout: 180_000 }, () => {
  let scratch: string;
  let app: string;
  let packed: { files: { path: string }[] };

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'tinygpt-pack-'));
    // prepack builds dist/ first
    const out = execFileSync(NPM, ['pack', '--json', '--pack-destination', scratch], { cwd: ROOT, encoding: 'utf8' });
    packed = (JSON.parse(out.slice(out.indexOf('['))) as { files: { path: string }[]; filename: string }[])[0] as never;
    const tarball = join(scratch, (packed as unknown as { filename: string }).filename);
    app = join(scratch, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
    );
    // Offline from npm's cache when it holds the dependencies' registry metadata; a cache filled only
    // by `npm ci` holds their tarballs but not that metadata, and then the registry supplies it.
    try {
      run(NPM, ['install', '--offline', '--no-audit', '--no-fund', tarball], app);
    } catch (e) {
      if (!/ENOTCACHED/.test((e as Error).message)) throw e;
      run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
    }
    // The consumer's Node types, copied from this checkout's install: an offline install by version
    // would need the registry's metadata for @types/node in npm's cache, which `npm ci` does not leave.
    for (const dep of ['@types/node', 'undici-types']) cpSync(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep), { recursive: true });
    expect(JSON.parse(readFileSync(join(app, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).version).toBe(TYPES_NODE);
    for (const f of ['quickstart.ts', 'node-entry.ts']) copyFileSync(join(ROOT, 'test', 'consumer', f), join(app, 'src', f));
    // a consumer's strict settings: no skipLibCheck, so every .d.ts tinygpt ships (and pulls in) is checked
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          outDir: 'build',
          types: ['node'],
        },
        include: ['src'],
      }),
    );
  }, 240_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('ships dist/ without sources or an install-time script', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('LICENSE');
    expect(paths.filter((p) => p.startsWith('src/') || (p.endsWith('.ts') && !p.endsWith('.d.ts')))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'tinygpt', 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(manifest.scripts.prepare).toBeUndefined();
    // tfjs-core and two backends, every tfjs package at one exact version
    const tfjs = Object.entries(manifest.dependencies).filter(([n]) => n.startsWith('@tensorflow/'));
    expect(tfjs).toEqual([
      ['@tensorflow/tfjs-backend-cpu', '4.22.0'],
      ['@tensorflow/tfjs-backend-wasm', '4.22.0'],
      ['@tensorflow/tfjs-core', '4.22.0'],
    ]);
  });

  it('installs under a third of the 310 MB the whole @tensorflow/tfjs made it', () => {
    const mb = folderBytes(join(app, 'node_modules')) / 1e6;
    console.log(`installed node_modules: ${mb.toFixed(1)} MB`);
    expect(readdirSync(join(app, 'node_modules', '@tensorflow')).sort()).toEqual([
      'tfjs-backend-cpu',
      'tfjs-backend-wasm',
      'tfjs-core',
    ]);
    expect(mb).toBeLessThan(310 / 3);
  });

  it('type-checks the quickstart and the subpath entries under tsc --strict without skipLibCheck', () => {
    const r = spawnSync(process.execPath, [TSC, '-p', join(app, 'tsconfig.json')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs the quickstart: trains, then generates on the wasm backend', () => {
    const out = JSON.parse(run(process.execPath, ['build/quickstart.js'], app).trim().split('\n').pop() ?? '') as {
      backend: string;
      val: number;
      text: string;
    };
    expect(out.backend).toBe('wasm');
    // 13 distinct characters: ln 13 = 2.56 is the loss of a uniform guess; 60 steps must beat it clearly
    expect(out.val).toBeLessThan(1.5);
    expect(out.text.length).toBe(24);
    const node = JSON.parse(run(process.execPath, ['build/node-entry.js'], app).trim()) as Record<string, unknown>;
    // sha256 of the empty string
    expect(node).toEqual({
      svg: true,
      digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      sha: 64,
      mask: 'function',
    });
  });

  it("runs the installed CLI on a local corpus, as the README's command line shows", () => {
    writeFileSync(join(app, 'corpus.txt'), 'to be or not to be, that is the question.\n'.repeat(50));
    const bin = join(app, 'node_modules', '.bin', 'tinygpt');
    const flags = [
      '--data',
      'corpus.txt',
      '--out',
      'out/mine',
      '--max-iters',
      '3',
      '--n-layer',
      '1',
      '--n-head',
      '2',
      '--n-embd',
      '16',
      '--block-size',
      '16',
      '--batch-size',
      '2',
    ];
    const r = spawnSync(bin, ['train', ...flags], { cwd: app, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/done: step 3, .*checkpoint out\/mine\/ckpt/);
    expect(existsSync(join(app, 'out', 'mine', 'ckpt', 'model.safetensors'))).toBe(true);
    const version = spawnSync(bin, ['--version'], { cwd: app, encoding: 'utf8' });
    expect(version.stdout.trim()).toBe(
      (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    );
  });

  it('tells a CommonJS require() that the package is ESM-only, in one line', () => {
    const r = spawnSync(process.execPath, ['-e', "require('tinygpt')"], { cwd: app, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("tinygpt is an ES module package: use `import { GPT } from 'tinygpt'`");
  });

  it.skipIf(!haveChromium)(
    'works in a Vite app: no node: imports in the browser graph, generation on wasm in Chromium',
    async () => {
      const web = join(app, 'web');
      cpSync(join(ROOT, 'test', 'consumer', 'vite-app'), web, { recursive: true });
      const nodeImports: string[] = [];
      const config = {
        root: web,
        base: './',
        logLevel: 'silent' as const,
        configFile: false as const,
        plugins: [recordNodeImports(nodeImports)],
      };
      await build({ ...config, build: { outDir: join(web, 'dist'), target: 'es2022' } });
      expect(nodeImports).toEqual([]);
      // what Node computes from the same seed on the same wasm kernels
      const script =
        "const t = await import('tinygpt'); const { run } = await import('./web/generate.js'); console.log(JSON.stringify(await run(t)));";
      const expected = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script], app).trim()) as {
        backend: string;
        text: string;
      };
      expect(expected.backend).toBe('wasm');

      const server = await preview({
        ...config,
        build: { outDir: join(web, 'dist') },
        preview: { host: '127.0.0.1', port: 0, strictPort: false },
      });
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
        ],
      });
      try {
        const page = await browser.newPage();
        await page.goto(`http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}/`);
        await page.waitForFunction(() => document.body.dataset.result !== undefined, undefined, { timeout: 30_000 });
        const result = JSON.parse((await page.getAttribute('body', 'data-result')) ?? '{}') as Record<string, unknown>;
        // the wasm backend, not the cpu fallback; the same greedy text as Node; every tensor freed
        expect(result).toEqual({ backend: 'wasm', text: expected.text, tensors: 0 });
      } finally {
        await browser.close();
        await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
      }
    },
    120_000,
  );
});
