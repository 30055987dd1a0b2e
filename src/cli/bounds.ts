/**
 * Sane upper bounds for the sizes the CLI accepts, checked before anything is allocated: a
 * typo such as `--block-size 1e6` would otherwise reach tfjs as a T·T attention mask and fail
 * deep inside with "Invalid typed array length".
 */
import { CliError, type Values } from './args.js';

/** flag → [largest value, why]. */
const LIMITS: Readonly<Record<string, readonly [number, string]>> = {
  'block-size': [16384, 'the attention scores alone need blockSize² numbers per head'],
  'n-embd': [16384, 'weights grow with nEmbd²'],
  'n-layer': [512, 'each layer holds its own weights'],
  'n-head': [1024, 'heads split nEmbd'],
  'vocab-size': [1 << 20, 'the embedding and output layers grow with it'],
  'batch-size': [65536, 'a batch holds batchSize · blockSize tokens'],
  'grad-accum': [65536, 'micro-batches per step'],
  'eval-iters': [1 << 20, 'batches per evaluation'],
  'max-iters': [1e12, 'steps'],
  'max-new-tokens': [1e9, 'tokens to generate'],
};

/** Tokens one micro-batch may hold (batchSize · blockSize), so its int32 arrays stay allocatable. */
const MAX_BATCH_TOKENS = 1 << 24;

/** Throws a CliError naming the first flag above its bound, with the bound and the reason. */
export function checkBounds(values: Values): void {
  for (const [flag, [max, why]] of Object.entries(LIMITS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    const v = Number(raw);
    if (Number.isFinite(v) && v > max) {
      throw new CliError(`--${flag} ${raw} is too large: at most ${max} (${why}); pass a smaller value.`);
    }
  }
  const b = Number(values['batch-size'] ?? 12);
  const t = Number(values['block-size'] ?? 64);
  if (Number.isFinite(b * t) && b * t > MAX_BATCH_TOKENS) {
    throw new CliError(`--batch-size ${b} × --block-size ${t} = ${b * t} tokens per batch is too large: at most ${MAX_BATCH_TOKENS}; lower one of them (use --grad-accum for a larger effective batch).`);
  }
}
