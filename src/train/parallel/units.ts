/**
 * How one optimizer step's work is cut for N workers. A step is K micro-batches of B rows.
 * With N ≤ K each worker takes whole micro-batches (contiguous ranges, as one thread would
 * accumulate them). With N > K each micro-batch is cut into S = min(B, ⌈N/K⌉) row shards, so the
 * default recipe's single batch of 12 rows runs as 6 + 6 on two cores. Every unit carries the
 * weight of its tokens in the step's mean loss,
 *   L = (1/K) Σₖ (1/B) Σᵣ Lₖᵣ  ⇒  unit (k, rows r₀..r₁) contributes ((r₁ − r₀) / (B·K)) · mean of its rows,
 * so the units' gradients sum to ∂L/∂w whatever the cut.
 */

/** One piece of a step: rows [rowStart, rowEnd) of micro-batch `micro`. */
export interface WorkUnit {
  /** Micro-batch index k in [0, K). */
  readonly micro: number;
  /** First row of the micro-batch in this unit. */
  readonly rowStart: number;
  /** One past the last row. */
  readonly rowEnd: number;
  /** Shard index j within the micro-batch (0 when micro-batches are not cut). */
  readonly shard: number;
}

/** The contiguous range [start, end) of n items that worker w of `workers` takes. */
export function shareOf(w: number, workers: number, n: number): readonly [number, number] {
  return [Math.floor((w * n) / workers), Math.floor(((w + 1) * n) / workers)];
}

/** Row shards per micro-batch when K micro-batches of B rows go to N workers. */
export function shardsPerMicro(workers: number, micro: number, batchSize: number): number {
  return workers <= micro ? 1 : Math.min(batchSize, Math.ceil(workers / micro));
}

/** The units of every worker, in step order (worker 0 first), covering each row of the step once. */
export function stepUnits(workers: number, micro: number, batchSize: number): WorkUnit[][] {
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= micro * batchSize)) {
    throw new Error(`stepUnits: workers must be an integer in [1, ${micro * batchSize}] (rows per step), got ${workers}.`);
  }
  const s = shardsPerMicro(workers, micro, batchSize);
  const units: WorkUnit[] = [];
  for (let k = 0; k < micro; k++) {
    for (let j = 0; j < s; j++) {
      const [rowStart, rowEnd] = shareOf(j, s, batchSize);
      units.push({ micro: k, rowStart, rowEnd, shard: j });
    }
  }
  return Array.from({ length: workers }, (_, w) => {
    const [a, b] = shareOf(w, workers, units.length);
    return units.slice(a, b);
  });
}

/**
 * The dropout seed of shard j of a micro-batch drawn with `seed`: the micro-batch's own seed for
 * shard 0 (so uncut micro-batches keep the single-thread masks), a hash of (seed, j) otherwise.
 */
export function shardSeed(seed: number, shard: number): number {
  if (shard === 0) return seed;
  let h = Math.imul(seed ^ Math.imul(shard, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 1) & 0x7fffffff;
}
