/**
 * Greedy or sampled decoding, decided by `doSample` as in Hugging Face: false (the default)
 * takes the most likely token every step; true draws from the temperature/top-k/top-p filtered
 * distribution.
 *
 * Hugging Face ignores temperature, top_k and top_p when do_sample is false and prints a warning.
 * tinygpt makes that combination an error instead, so a call that meant to sample (the old
 * default) cannot silently turn greedy. The one exception is temperature 0, which already means
 * greedy and is accepted either way.
 */

/** The sampling fields of an options object. */
export interface SamplingFields {
  /** false (default): greedy argmax; true: sample. */
  readonly doSample?: boolean;
  /** Divides the logits when sampling; 0 means greedy. */
  readonly temperature?: number;
  /** Keep only the k most likely tokens when sampling. */
  readonly topK?: number;
  /** Nucleus mass in (0, 1] when sampling. */
  readonly topP?: number;
}

/** What the sampler is given: temperature 0 means greedy (topK and topP are then unused). */
export interface ResolvedSampling {
  /** Softmax temperature; 0 = greedy argmax. */
  readonly temperature: number;
  /** Top-k cut when sampling. */
  readonly topK?: number;
  /** Nucleus mass when sampling. */
  readonly topP?: number;
}

/**
 * Checks doSample against the sampling fields and returns the sampler's settings. `where` names
 * the caller in messages ("generate", "textGeneration").
 */
export function resolveSampling(o: SamplingFields, where: string): ResolvedSampling {
  if (o.doSample !== undefined && typeof o.doSample !== 'boolean') {
    throw new Error(`${where}: doSample must be true or false, got ${String(o.doSample)}.`);
  }
  if (o.doSample === true) return { temperature: o.temperature ?? 1, topK: o.topK, topP: o.topP };
  const ignored = (['temperature', 'topK', 'topP'] as const).filter(
    (k) => o[k] !== undefined && !(k === 'temperature' && o[k] === 0),
  );
  if (ignored.length > 0) {
    const given = ignored.map((k) => `${k} ${String(o[k])}`).join(', ');
    throw new Error(
      `${where}: ${given} only ${ignored.length > 1 ? 'apply' : 'applies'} when sampling, but doSample is false ` +
        '(greedy decoding, the default as in Hugging Face); pass doSample: true to sample, or remove ' +
        `${ignored.length > 1 ? 'them' : 'it'}.`,
    );
  }
  return { temperature: 0 };
}
