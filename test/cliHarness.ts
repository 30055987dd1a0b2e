import { afterEach, beforeEach, expect, vi } from 'vitest';
import { main } from '../src/cli/run.js';

/** Output captured from in-process CLI runs: console and process streams, per test. */
export interface Captured {
  errors: string[];
  out: string[];
}

/**
 * Installs console/stdout/stderr spies around every test of the calling file and returns the
 * buffers plus `run`, which calls the CLI in-process and asserts no stack trace reached stderr.
 */
export function cliHarness(): Captured & { run: (...argv: string[]) => Promise<{ code: number; err: string }> } {
  const captured: Captured = { errors: [], out: [] };
  beforeEach(() => {
    captured.errors = [];
    captured.out = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void captured.errors.push(a.join(' ')));
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void captured.out.push(a.join(' ')));
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (captured.out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (captured.errors.push(String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());
  const run = async (...argv: string[]) => {
    const code = await main(argv);
    const err = captured.errors.join('\n');
    expect(err).not.toMatch(/\n\s+at /); // no stack frames
    return { code, err };
  };
  return Object.assign(captured, { run });
}
