/**
 * Logits processors: pure functions that reshape next-token logits before a token is drawn.
 * They run in plain JS on a Float64Array (the vocabulary is small, and doubles keep the
 * cumulative sums of top-p exact enough to be deterministic); a filtered-out token gets
 * logit −∞, so its softmax probability is exactly 0. None of them mutates its input.
 *
 * Order used by the sampler (as in Hugging Face): repetition penalty → temperature → top-k → top-p.
 */

/**
 * Absolute tolerance on probability mass in {@link topPFilter}: logits rounded to float32
 * make a mass like 0.5 + 0.25 come out as 0.7499999, which must still count as reaching 0.75.
 */
export const TOP_P_TOLERANCE = 1e-6;

/** Throws unless temperature is a finite number ≥ 0 (0 means greedy). */
export function checkTemperature(temperature: number): void {
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new Error(
      `temperature must be a finite number >= 0 (0 = greedy, 1 = unchanged), got ${String(temperature)}.`,
    );
  }
}

/** Throws unless topK is an integer ≥ 1. */
export function checkTopK(topK: number): void {
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1) {
    throw new Error(`topK must be an integer >= 1 (omit it to keep every token), got ${String(topK)}.`);
  }
}

/** Throws unless topP is in (0, 1]. */
export function checkTopP(topP: number): void {
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) {
    throw new Error(`topP must be a number in (0, 1] (1 keeps every token), got ${String(topP)}.`);
  }
}

/** Throws unless the repetition penalty is a finite number > 0. */
export function checkRepetitionPenalty(penalty: number): void {
  if (typeof penalty !== 'number' || !Number.isFinite(penalty) || penalty <= 0) {
    throw new Error(
      `repetitionPenalty must be a finite number > 0 (1 = off, > 1 discourages repeats), got ${String(penalty)}.`,
    );
  }
}

/**
 * Scales logits by 1/T, i.e. p_i ∝ exp(z_i / T): T < 1 sharpens the distribution, T > 1 flattens it.
 * T = 0 (greedy) has no finite scaling; the sampler takes the argmax instead of calling this.
 */
export function applyTemperature(logits: ArrayLike<number>, temperature: number): Float64Array {
  checkTemperature(temperature);
  if (temperature === 0) {
    throw new Error('applyTemperature needs temperature > 0: temperature 0 means greedy, use argmax instead.');
  }
  const out = Float64Array.from(logits);
  for (let i = 0; i < out.length; i++) out[i] /= temperature;
  return out;
}

/**
 * Keeps the k highest logits and sets the rest to −∞ (Fan et al. 2018). k is clamped to the
 * vocabulary size. Exactly k tokens survive: among tokens tied at the k-th value the lowest
 * ids are kept, so the result never depends on sort stability.
 */
export function topKFilter(logits: ArrayLike<number>, k: number): Float64Array {
  checkTopK(k);
  const out = Float64Array.from(logits);
  const v = out.length;
  if (k >= v) return out;
  // The native numeric sort finds the k-th largest value without a comparator callback.
  const sorted = Float64Array.from(out).sort();
  const kth = sorted[v - k];
  let greater = 0;
  for (let i = 0; i < v; i++) if (out[i] > kth) greater++;
  let tiesLeft = k - greater;
  for (let i = 0; i < v; i++) {
    if (out[i] > kth) continue;
    if (out[i] === kth && tiesLeft > 0) {
      tiesLeft--;
      continue;
    }
    out[i] = -Infinity;
  }
  return out;
}

/**
 * Nucleus filtering (Holtzman et al. 2020): sort tokens by probability, highest first, and keep
 * the shortest prefix whose cumulative mass Σ p_i reaches p (within {@link TOP_P_TOLERANCE});
 * the rest get −∞. The most likely token always survives. Ties in probability are ordered
 * by lower token id first, so the kept set is deterministic.
 */
export function topPFilter(logits: ArrayLike<number>, p: number): Float64Array {
  checkTopP(p);
  const out = Float64Array.from(logits);
  if (p === 1) return out;
  const probs = softmaxOf(out);
  // Tokens already at −∞ (e.g. cut by top-k) have mass 0 and need no sorting.
  const live: number[] = [];
  for (let i = 0; i < out.length; i++) if (probs[i] > 0) live.push(i);
  live.sort((a, b) => probs[b] - probs[a] || a - b);
  const keep = new Uint8Array(out.length);
  let mass = 0;
  for (const i of live) {
    keep[i] = 1;
    mass += probs[i];
    if (mass >= p - TOP_P_TOLERANCE) break;
  }
  for (let i = 0; i < out.length; i++) if (!keep[i]) out[i] = -Infinity;
  return out;
}

/**
 * CTRL's repetition penalty (Keskar et al. 2019, as implemented by Hugging Face): for every
 * distinct token id already in the sequence, a positive logit is divided by the penalty and a
 * negative one multiplied by it, so with penalty > 1 a seen token always becomes less likely.
 */
export function applyRepetitionPenalty(
  logits: ArrayLike<number>,
  previousIds: Iterable<number>,
  penalty: number,
): Float64Array {
  checkRepetitionPenalty(penalty);
  const out = Float64Array.from(logits);
  if (penalty === 1) return out;
  for (const id of new Set(previousIds)) {
    if (!Number.isInteger(id) || id < 0 || id >= out.length) {
      throw new Error(
        `applyRepetitionPenalty: token id ${String(id)} is outside the vocabulary [0, ${out.length}); ` +
          'pass the ids the logits were computed from.',
      );
    }
    const z = out[id];
    out[id] = z > 0 ? z / penalty : z * penalty;
  }
  return out;
}

/**
 * Numerically stable softmax p_i = exp(z_i − max z) / Σ_j exp(z_j − max z), in doubles.
 * Tokens at −∞ get exactly 0. If some logits are +∞ (a tiny temperature overflowed), they
 * share the mass equally, which is the limit of the distribution as T → 0.
 */
export function softmaxOf(logits: ArrayLike<number>): Float64Array {
  const v = logits.length;
  const out = new Float64Array(v);
  let max = -Infinity;
  for (let i = 0; i < v; i++) if (logits[i] > max) max = logits[i];
  if (max === -Infinity) {
    throw new Error('Every logit is −∞ (or NaN): no token can be sampled; check the model output.');
  }
  let sum = 0;
  for (let i = 0; i < v; i++) {
    const z = logits[i];
    const w = max === Infinity ? (z === Infinity ? 1 : 0) : Math.exp(z - max);
    out[i] = w;
    sum += w;
  }
  for (let i = 0; i < v; i++) out[i] /= sum;
  return out;
}
