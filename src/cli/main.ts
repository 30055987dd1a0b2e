#!/usr/bin/env node
// The `tinygpt` executable; the commands live in run.ts so tests can call them in-process.
import { main } from './run.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`tinygpt: ${String(e)}`);
    process.exit(1);
  },
);
