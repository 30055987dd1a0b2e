/**
 * Ctrl-C for a training run: the first SIGINT or SIGTERM asks the run to stop after the
 * current step (it then writes a checkpoint); a second one exits at once with code 130, which
 * is safe because every checkpoint is swapped in atomically (io/checkpoint.ts).
 */

/** What {@link installStopSignals} returns. */
export interface StopSignals {
  /** Aborted by the first signal. */
  readonly signal: AbortSignal;
  /** The signal that arrived first, if any. */
  readonly received: () => NodeJS.Signals | undefined;
  /** Removes the handlers (call when training ends). */
  dispose(): void;
}

/** Exit code of a run stopped by a signal (128 + SIGINT's 2), as shells report Ctrl-C. */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * Installs SIGINT and SIGTERM handlers: the first aborts the returned signal and prints
 * `notice`, the second exits the process immediately with {@link INTERRUPTED_EXIT_CODE}.
 */
export function installStopSignals(notice: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): StopSignals {
  const controller = new AbortController();
  let first: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (first !== undefined) {
      notice(`${sig} again: exiting now; the last checkpoint is intact.`);
      process.exit(INTERRUPTED_EXIT_CODE);
    }
    first = sig;
    notice(`${sig}: finishing this step and saving a checkpoint (press Ctrl-C again to exit at once).`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}
