/**
 * The Vite setup of the demo page, as a function so that tests can build and serve the page
 * with their own checkpoint and output folder (web/vite.config.ts calls it for `vite`).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin, UserConfig } from 'vite';

/** This folder (the page's Vite root). */
export const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Where the page looks for a served checkpoint, relative to itself. */
export const CHECKPOINT_ROUTE = 'ckpt/';

/** The only files served from a checkpoint folder: the model and its tokenizer, not the optimizer state. */
const SERVED: Readonly<Record<string, string>> = {
  'config.json': 'application/json',
  'model.safetensors': 'application/octet-stream',
  'tokenizer.json': 'application/json',
};

/** Options of {@link webConfig}. */
export interface WebConfigOptions {
  /**
   * A checkpoint folder (or a training output folder with ckpt/ inside) to serve at /ckpt/;
   * the page then loads it on open. None when undefined.
   */
  readonly checkpointDir?: string;
  /** Where `vite build` writes the page. Default web/dist. */
  readonly outDir?: string;
  /** Vite's log level; tests pass 'silent'. Default 'info'. */
  readonly logLevel?: 'info' | 'warn' | 'error' | 'silent';
  /** More Vite plugins (tests add one that records the modules the build pulls in). */
  readonly plugins?: readonly Plugin[];
}

/** A checkpoint folder itself, or the ckpt/ inside a training output folder. */
function checkpointFolder(dir: string): string {
  const inner = path.join(dir, 'ckpt');
  const folder = !existsSync(path.join(dir, 'config.json')) && existsSync(path.join(inner, 'config.json')) ? inner : dir;
  if (!existsSync(path.join(folder, 'config.json'))) {
    throw new Error(`${dir} has no config.json (nor ckpt/config.json): pass the folder written by tinygpt train (--out).`);
  }
  return folder;
}

/** Serves the checkpoint's three files under /ckpt/ in the dev and preview servers, and tells the page where they are. */
function serveCheckpoint(dir: string | undefined): Plugin {
  const folder = dir === undefined ? undefined : checkpointFolder(dir);
  const handle = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /\/ckpt\/([^/]+)$/.exec(url.pathname);
    const name = match?.[1];
    if (folder === undefined || name === undefined || SERVED[name] === undefined) return next();
    const file = path.join(folder, name);
    if (!existsSync(file)) {
      res.statusCode = 404;
      res.end(`${name} is not in ${folder}`);
      return;
    }
    res.setHeader('Content-Type', SERVED[name]);
    res.setHeader('Content-Length', String(statSync(file).size));
    res.setHeader('Cache-Control', 'no-store');
    createReadStream(file).pipe(res);
  };
  return {
    name: 'tinygpt-serve-checkpoint',
    configureServer: (server) => void server.middlewares.use(handle),
    configurePreviewServer: (server) => void server.middlewares.use(handle),
    // The page loads this URL on open when no ?checkpoint= is given.
    transformIndexHtml: () =>
      folder === undefined ? [] : [{ tag: 'meta', attrs: { name: 'tinygpt-checkpoint', content: CHECKPOINT_ROUTE }, injectTo: 'head' }],
  };
}

/** The page's Vite config: root web/, relative asset paths, the checkpoint route, localhost only. */
export function webConfig(options: WebConfigOptions = {}): UserConfig {
  return {
    root: WEB_DIR,
    base: './',
    // No index.html fallback: a wrong checkpoint URL should be a 404, not the page itself.
    appType: 'mpa',
    logLevel: options.logLevel ?? 'info',
    plugins: [serveCheckpoint(options.checkpointDir), ...(options.plugins ?? [])],
    build: {
      outDir: options.outDir ?? path.join(WEB_DIR, 'dist'),
      emptyOutDir: true,
      target: 'es2022',
      // tfjs-core and its backends are one large chunk by nature; no need to warn about it.
      chunkSizeWarningLimit: 4096,
    },
    server: { host: '127.0.0.1', fs: { allow: [path.resolve(WEB_DIR, '..')] } },
    preview: { host: '127.0.0.1' },
  };
}
