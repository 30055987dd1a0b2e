import seedrandom from 'seedrandom';

/** Serializable state of an {@link Rng}, so a resumed run draws the same numbers. */
export interface RngState {
  readonly c: number;
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
  /** The second normal of the last Box-Muller pair, not yet returned. */
  readonly spare: number | null;
}

/**
 * The one seeded source of randomness: initializers, batch sampling, dropout seeds and
 * token sampling all draw from an Rng, never from Math.random.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  nextInt(n: number): number;
  /** Standard normal N(0, 1) (Box-Muller). */
  normal(): number;
  /** A 31-bit integer, handy as a seed for a tfjs op or a child Rng. */
  nextSeed(): number;
  /** Snapshot of the generator; pass to {@link createRng} to continue from here. */
  state(): RngState;
}

/** Alea generator from seedrandom: fast, small, and its state is four numbers. */
export function createRng(seed: number | string, state?: RngState): Rng {
  const prng = seedrandom.alea(
    String(seed),
    state ? { state: { c: state.c, s0: state.s0, s1: state.s1, s2: state.s2 } } : { state: true },
  );
  let spare: number | null = state?.spare ?? null;
  const rng: Rng = {
    next: () => prng(),
    nextInt: (n: number) => Math.floor(prng() * n),
    normal: () => {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      // Box-Muller: two uniforms give two independent normals; keep one for the next call.
      let u = 0;
      while (u === 0) u = prng();
      const v = prng();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    nextSeed: () => Math.floor(prng() * 0x7fffffff),
    state: () => ({ ...(prng.state() as unknown as Omit<RngState, 'spare'>), spare }),
  };
  return rng;
}
