/**
 * A Vite plugin for tests of browser builds: records every node: import the build is asked to
 * resolve, and bare built-ins ('fs') imported outside node_modules, with the importing module.
 * (tfjs's Emscripten glue and seedrandom hold guarded require('fs') calls that their packages'
 * "browser" fields map to nothing; those are theirs and harmless.) A browser-safe graph has none.
 */
import { builtinModules } from 'node:module';
import type { Plugin } from 'vite';

const BUILTINS = new Set(builtinModules);

export function recordNodeImports(found: string[]): Plugin {
  return {
    name: 'test-record-node-imports',
    enforce: 'pre',
    resolveId(id, importer) {
      const ours = importer !== undefined && !importer.includes('/node_modules/');
      if (id.startsWith('node:') || (ours && BUILTINS.has(id.split('/')[0]))) found.push(`${id} <- ${importer ?? '?'}`);
      return null;
    },
  };
}
