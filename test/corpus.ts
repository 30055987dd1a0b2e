/**
 * Where tests find Tiny Shakespeare: $TINYGPT_SHAKESPEARE if set, else shared/data beside the
 * repository (../shared/data/tinyshakespeare.txt from its root). It is never committed; tests
 * that need it skip, saying how to provide it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The path tests read the corpus from (it may not exist). */
export const SHAKESPEARE_PATH =
  process.env.TINYGPT_SHAKESPEARE || fileURLToPath(new URL('../../shared/data/tinyshakespeare.txt', import.meta.url));

/** Whether the corpus is there; checked once, without reading it. */
export const HAVE_SHAKESPEARE = existsSync(SHAKESPEARE_PATH);

/** How to provide the corpus, for skip messages. */
export const SHAKESPEARE_HOW =
  'Tiny Shakespeare is not at ../shared/data/tinyshakespeare.txt (beside the repository): put it there ' +
  '(`npm run data -- --dest ../shared/data/tinyshakespeare.txt`) or set TINYGPT_SHAKESPEARE to its path';

/** Logs once per file which tests skip and why. */
export function warnIfNoShakespeare(file: string): void {
  if (!HAVE_SHAKESPEARE) console.warn(`${file}: tests on the real corpus skip. ${SHAKESPEARE_HOW}.`);
}
