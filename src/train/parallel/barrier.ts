/**
 * Phase flags in shared memory: the way replicas meet inside a step without the main thread.
 * Word layout of the control Int32Array (all stores are Atomics, so each is also a fence for the
 * plain writes before it):
 *   [0]             the step whose weights and tokens the main thread has published (+1)
 *   [1]             abort: set by the main thread when any worker failed, so no one waits forever
 *   [2 + p·N + w]   phase p of worker w reached, holding step + 1
 */

/** Phases of one step that every replica must reach before any goes on. */
export const PHASE = {
  /** The worker's gradient slot is written (sums may start). */
  grads: 0,
  /** The worker's span is summed and its share of ‖g‖² is written (the norm may be read). */
  norms: 1,
  /** The worker's span of weights and moments is updated (the step is over). */
  updated: 2,
} as const;

/** Number of phases above. */
export const PHASES = 3;

/** Control words for `workers` replicas. */
export function controlWords(workers: number): number {
  return 2 + PHASES * workers;
}

/** Index of worker w's flag for phase p. */
export function phaseIndex(phase: number, w: number, workers: number): number {
  return 2 + phase * workers + w;
}

/** How long a waiting replica sleeps before it checks the abort word again. */
const POLL_MS = 50;

/**
 * Marks phase `phase` of `step` as reached by worker w, then blocks until every worker has
 * reached it. Throws if the main thread set the abort word (another worker failed).
 */
export function arriveAndWait(control: Int32Array, phase: number, w: number, workers: number, step: number): void {
  const mark = step + 1;
  const mine = phaseIndex(phase, w, workers);
  Atomics.store(control, mine, mark);
  Atomics.notify(control, mine);
  for (let i = 0; i < workers; i++) {
    const at = phaseIndex(phase, i, workers);
    for (;;) {
      const seen = Atomics.load(control, at);
      if (seen === mark) break;
      if (Atomics.load(control, 1) !== 0) throw new Error('stopped because another worker failed');
      Atomics.wait(control, at, seen, POLL_MS);
    }
  }
}
