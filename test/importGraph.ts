/**
 * The static import graph of src/: every module a file reaches through relative imports
 * (static and literal dynamic ones, as a bundler follows them), and which bare specifiers
 * (packages, node: built-ins) that graph pulls in.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|(?<!typeof\s*)import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Specifiers of one source file (type-only imports skipped: they vanish from the JS). */
export function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    if (/^\s*(?:import|export)\s+type\s/.test(m[0].trimStart().replace(/^;/, ''))) continue;
    out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

/** Every file reached from `entry` and the bare specifiers met, with the file that imports each. */
export function importGraph(entry: string): { files: string[]; bare: Map<string, string> } {
  const seen = new Set<string>();
  const bare = new Map<string, string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of specifiersOf(file)) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!bare.has(spec)) bare.set(spec, relative(join(dirname(entry), '..'), file));
    }
  };
  visit(resolve(entry));
  return { files: [...seen], bare };
}
