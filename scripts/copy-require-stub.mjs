// Writes dist/require.cjs: what `require('tinygpt')` gets. tinygpt is ESM-only (tfjs's wasm
// backend and tinygpt's modules load as ES modules), so a CommonJS caller gets one clear line.
import { writeFileSync } from 'node:fs';

const message =
  "tinygpt is an ES module package: use `import { GPT } from 'tinygpt'` (or `await import('tinygpt')` " +
  'from CommonJS), with "type": "module" in package.json or an .mjs file.';
writeFileSync(new URL('../dist/require.cjs', import.meta.url), `throw new Error(${JSON.stringify(message)});\n`);
