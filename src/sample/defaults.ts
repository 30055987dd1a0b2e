/** The sampling defaults of `tinygpt sample` (nanoGPT's sample.py); the web page starts from the same. */
export const SAMPLE_DEFAULTS = {
  /** New tokens per sample. */
  maxNewTokens: 500,
  /** Softmax temperature. */
  temperature: 0.8,
  /** Top-k cut. */
  topK: 200,
  /** Nucleus mass (1 = off). */
  topP: 1,
  /** Seed of the one rng all samples draw from. */
  seed: 1337,
  /** The prompt when none is given. */
  prompt: '\n',
} as const;

