/** The learning-rate schedule's knobs (nanoGPT's names, camel-cased). */
export interface LrSchedule {
  /** Peak learning rate, reached at the end of warmup. */
  readonly lr: number;
  /** Floor the cosine decays to, and the rate after lrDecayIters. */
  readonly minLr: number;
  /** Steps of linear warmup from near 0 up to lr; 0 disables warmup. */
  readonly warmupIters: number;
  /** Step at which the cosine reaches minLr; must be >= warmupIters. */
  readonly lrDecayIters: number;
}

/**
 * Learning rate for optimizer step `step` (0-based), as in nanoGPT's get_lr:
 *   warmup:  lr · (step + 1) / (warmupIters + 1)                       for step < warmupIters
 *   cosine:  minLr + ½(1 + cos(π·r))·(lr − minLr),  r = (step − warmupIters)/(lrDecayIters − warmupIters)
 *   floor:   minLr                                                      for step >= lrDecayIters
 * The +1 in the warmup keeps the very first step from using a rate of exactly 0.
 */
export function getLr(step: number, s: LrSchedule): number {
  if (!Number.isInteger(step) || step < 0) {
    throw new Error(`getLr: step must be an integer >= 0, got ${String(step)}.`);
  }
  if (step < s.warmupIters) return (s.lr * (step + 1)) / (s.warmupIters + 1);
  // Checked before the cosine so that lrDecayIters === warmupIters never divides 0 by 0.
  if (step >= s.lrDecayIters) return s.minLr;
  const ratio = (step - s.warmupIters) / (s.lrDecayIters - s.warmupIters);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio));
  return s.minLr + coeff * (s.lr - s.minLr);
}
