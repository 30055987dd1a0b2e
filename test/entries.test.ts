/**
 * The package's entry points (package.json "exports"): a small browser-safe main entry,
 * 'tinygpt/node' for file and process code, 'tinygpt/viz' and 'tinygpt/ops'. The browser
 * entries' static import graphs (as a bundler follows them) reach no node: module.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as main from '../src/index.js';
import * as node from '../src/node.js';
import * as ops from '../src/ops.js';
import * as viz from '../src/viz.js';
import { importGraph } from './importGraph.js';

const ENTRIES = { '.': main, './node': node, './viz': viz, './ops': ops } as const;
const SOURCES: Record<keyof typeof ENTRIES, string> = {
  '.': 'src/index.ts',
  './node': 'src/node.ts',
  './viz': 'src/viz.ts',
  './ops': 'src/ops.ts',
};

describe('entry points', () => {
  it('package.json exports each entry as ESM with types, and a clear error for require()', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, { types: string; import: string; require: string }>;
    };
    for (const [sub, src] of Object.entries(SOURCES)) {
      const js = src.replace(/^src\//, './dist/').replace(/\.ts$/, '.js');
      expect(pkg.exports[sub]).toEqual({ types: js.replace(/\.js$/, '.d.ts'), import: js, require: './dist/require.cjs' });
    }
  });

  it('keeps the main entry small and gives every name one home', () => {
    // the runtime names (types are erased); with its types the main entry is about 50 names
    expect(Object.keys(main).length).toBeLessThanOrEqual(36);
    const home = new Map<string, string>();
    for (const [entry, mod] of Object.entries(ENTRIES)) {
      for (const name of Object.keys(mod)) {
        expect(home.get(name), `${name} is exported by both ${home.get(name)} and ${entry}`).toBeUndefined();
        home.set(name, entry);
      }
    }
    expect(main.tf.memory).toBeTypeOf('function'); // the tfjs namespace, so users need not import tfjs-core
  });

  for (const sub of ['.', './viz', './ops'] as const) {
    it(`'tinygpt${sub === '.' ? '' : sub.slice(1)}' reaches no node: module (browser-safe)`, () => {
      const nodeOnly = [...importGraph(SOURCES[sub]).bare].filter(([s]) => s.startsWith('node:'));
      expect(nodeOnly.map(([s, from]) => `${s} <- ${from}`)).toEqual([]);
    });
  }

  it("'tinygpt/node' is where the node: modules are", () => {
    expect([...importGraph(SOURCES['./node']).bare.keys()]).toContain('node:fs/promises');
  });
});
