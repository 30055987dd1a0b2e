/**
 * Streaming text to stdout from a loop that never waits on I/O (generation is synchronous
 * compute between promise steps): pieces are gathered and written about 60 times a second, the
 * loop waits when the pipe is full (backpressure) and gives the event loop one turn per write,
 * so a closed reader (EPIPE, e.g. `tinygpt sample | head -c 100`) is noticed at once.
 */
/** Write at least this often while text arrives (a terminal still sees tokens as they come). */
const FLUSH_MS = 16;
/** ... or when this many characters are waiting. */
const FLUSH_CHARS = 16_384;

/** One macrotask turn, so stream errors queued with process.nextTick are delivered. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** stdout as a sink that reports, instead of throwing, that its reader went away. */
export class StdoutSink {
  private buffer = '';
  private lastFlush = performance.now();
  private error: Error | undefined;
  private gone = false;
  private readonly onError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') this.gone = true;
    else this.error = e;
  };

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    stream.on('error', this.onError);
  }

  /** True once the reader has closed the pipe: stop producing output. */
  get closed(): boolean {
    return this.gone;
  }

  /** Queues text; writes it when enough has gathered. */
  async write(text: string): Promise<void> {
    if (this.gone || text.length === 0) return;
    this.buffer += text;
    if (this.buffer.length >= FLUSH_CHARS || performance.now() - this.lastFlush >= FLUSH_MS) await this.flush();
  }

  /** Writes what is queued, waiting while the pipe is full. */
  async flush(): Promise<void> {
    this.lastFlush = performance.now();
    if (this.gone || this.buffer.length === 0) return;
    const chunk = this.buffer;
    this.buffer = '';
    const ok = this.stream.write(chunk);
    if (!ok && !this.gone) await this.drained();
    await turn();
    if (this.error !== undefined) {
      const e = this.error;
      this.error = undefined;
      throw new Error(`could not write to stdout: ${e.message}`);
    }
  }

  /** Resolves on 'drain', or on 'close'/'error' (the reader went away). */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        for (const ev of ['drain', 'close', 'error'] as const) this.stream.off(ev, done);
        resolve();
      };
      for (const ev of ['drain', 'close', 'error'] as const) this.stream.on(ev, done);
    });
  }

  /** Flushes and detaches from the stream. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.stream.off('error', this.onError);
    }
  }
}
