// Prepares Tiny Shakespeare for character-level training (the role of nanoGPT's
// data/shakespeare_char/prepare.py): puts the corpus at data/tinyshakespeare.txt, copied from a
// local file or downloaded with its sha256 checked, and reports its size and character vocabulary.
// tinygpt tokenizes when it trains, so no .bin files are written.
//   npm run data                      # download (checksum verified)
//   npm run data -- --path input.txt  # use a copy you already have
import { parseArgs } from 'node:util';
import { ensureShakespeare } from '../../src/data/shakespeare.js';
import { loadText } from '../../src/data/text.js';
import { CharTokenizer } from '../../src/tokenizer/char.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      path: { type: 'string' },
      // Same as --path; the training CLI calls it --data, and the error messages suggest that name.
      data: { type: 'string' },
      dest: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npm run data -- [--path FILE | --data FILE] [--dest FILE]');
    return;
  }
  const file = await ensureShakespeare({ path: values.path ?? values.data, dest: values.dest });
  const text = await loadText(file);
  const tokenizer = CharTokenizer.fromText(text);
  console.log(`Tiny Shakespeare is at ${file}`);
  console.log(`${text.length} characters, vocabulary of ${tokenizer.vocabSize}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
