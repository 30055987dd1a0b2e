import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { importGraph } from './test/importGraph.js';

// Test files whose imports reach tfjs run twice, once per backend, so one code path is checked on
// both; the others (tokenizers, config, schedules, plots, the packed package) and the tests that
// bring their own backend (a browser page) run once, in the 'node' project.
const ONCE = new Set(['test/web.test.ts', 'test/web-train.test.ts', 'test/package.test.ts', 'test/entries.test.ts']);
const files = readdirSync(new URL('./test', import.meta.url))
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `test/${f}`);
const usesTensors = (file: string): boolean => [...importGraph(file).bare.keys()].some((s) => s.startsWith('@tensorflow/'));
const perBackend = files.filter((f) => !ONCE.has(f) && usesTensors(f));
const once = files.filter((f) => !perBackend.includes(f));

const project = (name: string, include: string[], backend: 'cpu' | 'wasm') => ({
  test: {
    name,
    include,
    setupFiles: ['test/setup.ts'],
    env: { TINYGPT_BACKEND: backend },
    testTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    projects: [project('node', once, 'wasm'), project('cpu', perBackend, 'cpu'), project('wasm', perBackend, 'wasm')],
  },
});
