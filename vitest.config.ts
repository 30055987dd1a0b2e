import { defineConfig } from 'vitest/config';

// Every test file runs twice, once per backend, so one code path is checked on both.
const project = (backend: 'cpu' | 'wasm') => ({
  test: {
    name: backend,
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    env: { TINYGPT_BACKEND: backend },
    testTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    projects: [project('cpu'), project('wasm')],
  },
});
