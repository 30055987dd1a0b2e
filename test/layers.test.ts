import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The folders of src/ follow the data flow, and a lower floor never imports a higher one:
 *   util, config → ops, io, tokenizer → layers, norm, data → attention → block → decode → model
 *   → train, sample, viz → pretrained → cli → the entry points.
 * Folders on one floor may import each other only where listed in SIDEWAYS.
 */
const FLOOR: Record<string, number> = {
  util: 0, config: 0, grad: 0,
  ops: 1, io: 1, tokenizer: 1, backend: 1, wasmPaths: 1,
  layers: 2, norm: 2, data: 2,
  attention: 3,
  block: 4,
  decode: 5,
  model: 6,
  train: 7, sample: 7, viz: 7,
  pretrained: 8,
  cli: 9,
  index: 10, node: 10, ops_entry: 10, viz_entry: 10, require: 10,
};

/** The one upward edge: GPT.fromPretrained/savePretrained load the folder code lazily (dynamic import), as HF's from_pretrained does. */
const LAZY_UP = new Set(['model -> pretrained']);

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** A file's floor name: its folder under src/, or for top-level files their own name (ops.ts, viz.ts as entry points). */
function area(file: string): string {
  const parts = relative(src, file).split(/[\\/]/);
  if (parts.length > 1) return parts[0];
  const base = parts[0].replace(/\.ts$/, '');
  return base === 'ops' || base === 'viz' ? `${base}_entry` : base;
}

describe('src/ folder floors', () => {
  it('every src folder has a floor', () => {
    const areas = new Set(tsFiles(src).map(area));
    expect([...areas].filter((a) => FLOOR[a] === undefined)).toEqual([]);
  });

  it('no file imports a folder on a higher floor', () => {
    const up: string[] = [];
    for (const file of tsFiles(src)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
        const target = normalize(join(dirname(file), m[1].replace(/\.js$/, '.ts')));
        const [a, b] = [area(file), area(target)];
        const edge = `${a} -> ${b}`;
        if (FLOOR[b] > FLOOR[a] && !(LAZY_UP.has(edge) && /import\s*\(/.test(m[0]))) up.push(`${relative(src, file)} imports ${m[1]} (${edge})`);
      }
    }
    expect(up).toEqual([]);
  });
});
