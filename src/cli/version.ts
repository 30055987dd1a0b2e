import { readFileSync } from 'node:fs';

/**
 * The package's version, read from its package.json: two folders up from this file, both in
 * src/cli/ (tsx, tests) and in the published dist/cli/.
 */
export function packageVersion(): string {
  const json: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const version = json !== null && typeof json === 'object' ? (json as { version?: unknown }).version : undefined;
  if (typeof version !== 'string') throw new Error('package.json has no "version" string.');
  return version;
}
