import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig, type ResolvedGPTConfig } from '../src/config/config.js';
import type { LanguageModel } from '../src/model/types.js';
import { generate, generateAll, nextLogits } from '../src/sample/generate.js';
import { textGeneration } from '../src/sample/pipeline.js';
import { StopCriteria } from '../src/sample/stopping.js';
import { streamText } from '../src/sample/streamer.js';
import { createRng } from '../src/util/rng.js';

/**
 * A stand-in LanguageModel: the logits at each position are row `id` of a fixed (V, V) table,
 * i.e. a bigram model. It records the ids of every forward pass.
 */
class TableModel implements LanguageModel {
  readonly config: ResolvedGPTConfig;
  readonly seen: number[][] = [];
  private readonly table: tf.Tensor;

  constructor(rows: number[][], blockSize: number) {
    this.config = resolveConfig({ vocabSize: rows.length, blockSize, nLayer: 1, nHead: 1, nEmbd: 4 });
    this.table = tf.tensor2d(rows); // (V, V)
  }

  forward(ids: tf.Tensor2D): tf.Tensor3D {
    expect(ids.dtype).toBe('int32');
    this.seen.push(Array.from(ids.dataSync()));
    return tf.gather(this.table, ids) as tf.Tensor3D; // (B, T, V)
  }

  loss(): tf.Scalar {
    throw new Error('not used');
  }

  namedWeights(): Map<string, tf.Variable> {
    return new Map();
  }

  numParams(): number {
    return 0;
  }

  dispose(): void {
    this.table.dispose();
  }
}

const V = 10;
/** Greedy successor model: after token i the next token is (i + 1) mod V (logit 10 vs 0). */
const successorRows = Array.from({ length: V }, (_, i) => Array.from({ length: V }, (_, j) => (j === (i + 1) % V ? 10 : 0)));
const rng = createRng(99);
const randomRows = Array.from({ length: V }, () => Array.from({ length: V }, () => 2 * rng.normal()));

const models: TableModel[] = [];
function model(rows: number[][], blockSize = 16): TableModel {
  const m = new TableModel(rows, blockSize);
  models.push(m);
  return m;
}
afterAll(() => models.forEach((m) => m.dispose()));

/** One character per token: 'a' is id 0, 'b' id 1, ... */
const chars = 'abcdefghij';
const charCodec = {
  encode: (text: string) => Array.from(text, (c) => chars.indexOf(c)),
  decode: (ids: number[]) => ids.map((i) => chars[i]).join(''),
};
/** Two characters per token (id 0 is '<'), so a stop string can straddle tokens. */
const pieces = ['<', 'ab', 'cd', 'ef', 'gh', 'ij', 'kl', 'mn', 'op', 'qr'];
const pairCodec = {
  encode: (text: string) => (text === '<' ? [0] : []),
  decode: (ids: number[]) => ids.map((i) => pieces[i]).join(''),
};

describe('generate', () => {
  it('reads the last position through nextLogits without leaking tensors', () => {
    const m = model(successorRows);
    const before = tf.memory().numTensors;
    const z = nextLogits(m, [3, 7]);
    expect(z.length).toBe(V);
    expect(z[8]).toBe(10); // row 7 of the table: the successor of 7 is 8
    expect(tf.memory().numTensors).toBe(before);
  });

  it('greedy decoding follows the model and crops the context to blockSize', async () => {
    const m = model(successorRows, 4);
    const out = await generateAll(m, [0, 1, 2], { maxNewTokens: 5, temperature: 0 });
    expect(out).toEqual([3, 4, 5, 6, 7]);
    // contexts seen: prompt (T = 3), then the last 4 of 0..3, 0..4, 0..5, 0..6
    expect(m.seen).toEqual([
      [0, 1, 2],
      [0, 1, 2, 3],
      [1, 2, 3, 4],
      [2, 3, 4, 5],
      [3, 4, 5, 6],
    ]);
  });

  it('maxNewTokens 0 yields nothing and runs no forward pass', async () => {
    const m = model(successorRows);
    expect(await generateAll(m, [0], { maxNewTokens: 0 })).toEqual([]);
    expect(m.seen).toEqual([]);
  });

  it('stops on stop ids and id sequences without yielding them', async () => {
    const m = model(successorRows);
    const run = (stop: Parameters<typeof generateAll>[2]['stop']) =>
      generateAll(m, [0], { maxNewTokens: 8, temperature: 0, stop });
    expect(await run(4)).toEqual([1, 2, 3]);
    expect(await run([9, 4])).toEqual([1, 2, 3]); // a list of single ids: either stops
    expect(await run([[3, 4]])).toEqual([1, 2]);
    // [3, 5] never completes: 3 is held back only until 4 rules the sequence out
    expect(await run([[3, 5]])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // [8, 9] is still open when the budget ends: the held 8 is released
    expect(await run([[8, 9]])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('streams held-back tokens as soon as they cannot start a stop sequence', async () => {
    const m = model(successorRows);
    const events: string[] = [];
    const gen = generate(m, [0], { maxNewTokens: 4, temperature: 0, stop: [[2, 9]] });
    for await (const id of gen) events.push(`yield ${id} after ${m.seen.length} passes`);
    // 2 waits for the third pass (which gives 3, ruling out [2, 9]), then 2 and 3 go out together
    expect(events).toEqual([
      'yield 1 after 1 passes',
      'yield 2 after 3 passes',
      'yield 3 after 3 passes',
      'yield 4 after 4 passes',
    ]);
  });

  it('stops on strings with a decoder, dropping a token that straddles the stop', async () => {
    const m = model(successorRows);
    const opts = { maxNewTokens: 8, temperature: 0, decode: charCodec.decode };
    // generated text "bcdefghi": "de" starts at character 2 → keep "bc"
    expect(await generateAll(m, [0], { ...opts, stop: 'de' })).toEqual([1, 2]);
    expect(await generateAll(m, [0], { ...opts, stop: ['zz', 'f'] })).toEqual([1, 2, 3, 4]);
    // pieces: "ab" "cd" "ef"; "bc" starts at character 1, inside token 1 → nothing before it survives
    expect(await generateAll(m, [0], { ...opts, decode: pairCodec.decode, stop: 'bc' })).toEqual([]);
    expect(await generateAll(m, [0], { ...opts, decode: pairCodec.decode, stop: 'ef' })).toEqual([1, 2]);
    expect(() => generate(m, [0], { maxNewTokens: 3, stop: 'de' })).toThrow(/stop strings \("de"\)|need a decoder/);
  });

  it('ends cleanly at the next token boundary when aborted', async () => {
    const m = model(successorRows);
    const ctrl = new AbortController();
    const seen: number[] = [];
    const out = await generateAll(m, [0], {
      maxNewTokens: 8,
      temperature: 0,
      signal: ctrl.signal,
      onToken: (id) => {
        seen.push(id);
        if (seen.length === 3) ctrl.abort();
      },
    });
    expect(out).toEqual([1, 2, 3]);
    expect(m.seen.length).toBe(3); // no forward pass after the abort
    expect(await generateAll(m, [0], { maxNewTokens: 8, signal: ctrl.signal })).toEqual([]);
  });

  it('sees an abort fired by a timer while generating', async () => {
    const m = model(successorRows);
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 1);
    const out = await generateAll(m, [0], { maxNewTokens: 100000, temperature: 0, signal: ctrl.signal });
    expect(out.length).toBeLessThan(100000);
  });

  it('calls onToken once per yielded token, in order', async () => {
    const m = model(successorRows);
    const calls: number[] = [];
    const out = await generateAll(m, [5], { maxNewTokens: 8, temperature: 0, stop: [[1, 2]], onToken: (id) => calls.push(id) });
    expect(out).toEqual([6, 7, 8, 9, 0]); // 1, 2 completes the stop: 7 passes, not 8
    expect(m.seen.length).toBe(7);
    expect(calls).toEqual(out);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const m = model(randomRows);
    const opts = { maxNewTokens: 30, doSample: true, temperature: 1, topK: 5, topP: 0.9 };
    const a = await generateAll(m, [0], { ...opts, seed: 7 });
    expect(await generateAll(m, [0], { ...opts, seed: 7 })).toEqual(a);
    expect(await generateAll(m, [0], { ...opts, seed: 8 })).not.toEqual(a);
    // an explicit rng seeded the same way gives the same draws as `seed`
    expect(await generateAll(m, [0], { ...opts, rng: createRng(7) })).toEqual(a);
  });

  it('applies the repetition penalty to the whole history', async () => {
    // every row: token 1 has logit 2, token 2 has 1.5, the rest 0 → greedy repeats 1 forever
    const rows = Array.from({ length: 4 }, () => [0, 2, 1.5, 0]);
    const m = model(rows);
    expect(await generateAll(m, [0], { maxNewTokens: 4, temperature: 0 })).toEqual([1, 1, 1, 1]);
    // penalty 2, history [0, 1]: token 1 → 2 / 2 = 1 < 1.5 → 2; history [0, 1, 2]: 1 vs 1.5 / 2 = 0.75 → 1
    expect(await generateAll(m, [0], { maxNewTokens: 4, temperature: 0, repetitionPenalty: 2 })).toEqual([1, 2, 1, 1]);
  });

  it('leaves numTensors unchanged, also when the consumer stops early', async () => {
    const m = model(randomRows, 4);
    const before = tf.memory().numTensors;
    await generateAll(m, [1, 2, 3], { maxNewTokens: 12, doSample: true, seed: 1, stop: [[3, 3]] });
    for await (const id of generate(m, [1], { maxNewTokens: 12, doSample: true, seed: 2 })) if (id >= 0) break;
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is greedy by default (doSample false, as in Hugging Face) and samples with doSample', async () => {
    const m = model(randomRows);
    // Greedy by hand: from token 0 follow the argmax of each table row.
    const argmaxRow = (i: number): number => randomRows[i].indexOf(Math.max(...randomRows[i]));
    const expected: number[] = [];
    for (let id = 0, k = 0; k < 15; k++) expected.push((id = argmaxRow(id)));
    expect(await generateAll(m, [0], { maxNewTokens: 15 })).toEqual(expected);
    expect(await generateAll(m, [0], { maxNewTokens: 15, seed: 4 })).toEqual(expected); // a seed does not make it sample
    expect(await generateAll(m, [0], { maxNewTokens: 15, doSample: true, temperature: 0 })).toEqual(expected);
    const sampled = await generateAll(m, [0], { maxNewTokens: 15, doSample: true, seed: 4 });
    expect(sampled).not.toEqual(expected);
    expect(sampled).toEqual(await generateAll(m, [0], { maxNewTokens: 15, doSample: true, temperature: 1, seed: 4 }));
  });

  it('rejects sampling options without doSample and unknown option names, with the right name', () => {
    const m = model(successorRows);
    expect(() => generate(m, [0], { maxNewTokens: 3, temperature: 0.8 })).toThrow(
      /generate: temperature 0\.8 only applies when sampling, but doSample is false/,
    );
    expect(() => generate(m, [0], { maxNewTokens: 3, topK: 5, topP: 0.9 })).toThrow(/topK 5, topP 0\.9 only apply when sampling.*remove them/);
    expect(() => generate(m, [0], { maxNewTokens: 3, doSample: 1 as unknown as boolean })).toThrow(/doSample must be true or false/);
    const bad = (o: object) => () => generate(m, [0], o as { maxNewTokens: number });
    expect(bad({ maxNewTokens: 3, top_k: 5 })).toThrow(/generate: unknown option "top_k"; did you mean "topK"\?/);
    expect(bad({ max_new_tokens: 3 })).toThrow(/unknown option "max_new_tokens"; did you mean "maxNewTokens"/);
    expect(bad({ maxNewTokens: 3, temprature: 1 })).toThrow(/unknown option "temprature"; did you mean "temperature"/);
    expect(bad({ maxNewTokens: 3, TopP: 1 })).toThrow(/did you mean "topP"/);
    expect(bad({ maxNewTokens: 3, beams: 4 })).toThrow(/unknown option "beams"; the options are maxNewTokens, doSample, /);
    expect(bad({ maxNewTokens: 3, numReturnSequences: 2 })).toThrow(/generate streams one sequence; use textGeneration/);
    expect(m.seen).toEqual([]);
  });

  it('rejects bad arguments before generating, with clear messages', () => {
    const m = model(successorRows);
    expect(() => generate(m, [], { maxNewTokens: 3 })).toThrow(/prompt is empty/);
    expect(() => generate(m, [0, 10], { maxNewTokens: 3 })).toThrow(/prompt token id 10 is not an integer in \[0, 10\)/);
    for (const maxNewTokens of [-1, 1.5, Number.NaN]) {
      expect(() => generate(m, [0], { maxNewTokens })).toThrow(/maxNewTokens must be a non-negative integer/);
    }
    expect(() => generate(m, [0], { maxNewTokens: 3, doSample: true, temperature: -1 })).toThrow(/temperature/);
    expect(() => generate(m, [0], { maxNewTokens: 3, doSample: true, topP: 2 })).toThrow(/topP/);
    expect(() => generate(m, [0], { maxNewTokens: 3, repetitionPenalty: 0 })).toThrow(/repetitionPenalty/);
    expect(() => generate(m, [0], { maxNewTokens: 3, stop: [12] })).toThrow(/stop ids must be integers in \[0, 10\)/);
    expect(() => generate(m, [0], { maxNewTokens: 3, stop: [[]] })).toThrow(/empty token sequence/);
    expect(m.seen).toEqual([]);
  });
});

describe('textGeneration', () => {
  it('returns one result with the full text by default, or only the continuation', async () => {
    const pipe = textGeneration(model(successorRows), charCodec);
    expect(await pipe('a', { maxNewTokens: 3 })).toEqual([{ generatedText: 'abcd' }]);
    expect(await pipe('ab', { maxNewTokens: 3, returnFullText: false })).toEqual([{ generatedText: 'cde' }]);
  });

  it('is greedy unless doSample, and seeded when sampling', async () => {
    const pipe = textGeneration(model(successorRows), charCodec);
    expect(await pipe('c', { maxNewTokens: 3 })).toEqual([{ generatedText: 'cdef' }]);
    // Hugging Face ignores temperature without do_sample (with a warning); here it is an error.
    await expect(pipe('c', { maxNewTokens: 3, temperature: 50 })).rejects.toThrow(
      /textGeneration: temperature 50 only applies when sampling, but doSample is false .*pass doSample: true/,
    );
    const sampler = textGeneration(model(randomRows), charCodec);
    const opts = { maxNewTokens: 20, doSample: true, seed: 3, returnFullText: false };
    const [a] = await sampler('a', opts);
    expect(a.generatedText).toHaveLength(20);
    expect(await sampler('a', opts)).toEqual([a]);
  });

  it('returns numReturnSequences texts drawn from one seeded rng; more than one needs doSample', async () => {
    const sampler = textGeneration(model(randomRows), charCodec);
    const opts = { maxNewTokens: 12, doSample: true, seed: 5, returnFullText: false };
    const three = await sampler('a', { ...opts, numReturnSequences: 3 });
    expect(three).toHaveLength(3);
    // The first continues the rng exactly like a single call; the others go on drawing from it.
    expect(three[0]).toEqual((await sampler('a', opts))[0]);
    expect(new Set(three.map((o) => o.generatedText)).size).toBe(3);
    await expect(sampler('a', { maxNewTokens: 2, numReturnSequences: 2 })).rejects.toThrow(/numReturnSequences 2 needs doSample: true/);
    await expect(sampler('a', { maxNewTokens: 2, numReturnSequences: 0 })).rejects.toThrow(/numReturnSequences must be an integer >= 1/);
  });

  it('rejects unknown option names, suggesting the one meant', async () => {
    const pipe = textGeneration(model(successorRows), charCodec);
    const bad = (o: object) => pipe('a', o as { maxNewTokens: number });
    await expect(bad({ max_new_tokens: 3 })).rejects.toThrow(/textGeneration: unknown option "max_new_tokens"; did you mean "maxNewTokens"\?/);
    await expect(bad({ maxNewTokens: 3, num_return_sequences: 2 })).rejects.toThrow(/did you mean "numReturnSequences"/);
    await expect(bad({ maxNewTokens: 3, do_sample: true })).rejects.toThrow(/did you mean "doSample"/);
  });

  it('cuts the text exactly before a stop string, even inside a token', async () => {
    const pipe = textGeneration(model(successorRows), pairCodec);
    // continuation "abcdef…": "bc" starts at character 1 → "a"
    expect(await pipe('<', { maxNewTokens: 5, stop: 'bc', returnFullText: false })).toEqual([{ generatedText: 'a' }]);
    expect(await pipe('<', { maxNewTokens: 5, stop: ['zz', 'de'] })).toEqual([{ generatedText: '<abc' }]);
    // a stop id ends generation too: id 3 is "ef"
    expect(await pipe('<', { maxNewTokens: 5, stop: 3 })).toEqual([{ generatedText: '<abcd' }]);
  });

  it('rejects a prompt that encodes to nothing and non-boolean flags', async () => {
    const pipe = textGeneration(model(successorRows), pairCodec);
    await expect(pipe('', { maxNewTokens: 2 })).rejects.toThrow(/encodes to no tokens/);
    const bad = { maxNewTokens: 2, doSample: 'yes' } as unknown as { maxNewTokens: number };
    await expect(pipe('<', bad)).rejects.toThrow(/doSample must be true or false/);
    expect(() => textGeneration(model(successorRows), {} as typeof charCodec)).toThrow(/encode\(text\)/);
  });
});

describe('StopCriteria', () => {
  it('holds back tokens that may begin a stop string and drops the stop', () => {
    const s = new StopCriteria(['cd'], charCodec.decode, V);
    expect(s.push(1)).toEqual({ emit: [1], stop: false }); // "b"
    expect(s.push(2)).toEqual({ emit: [], stop: false }); // "bc": "c" may start "cd"
    expect(s.push(4)).toEqual({ emit: [2, 4], stop: false }); // "bce": no longer
    expect(s.push(2)).toEqual({ emit: [], stop: false }); // "bcec"
    expect(s.push(3)).toEqual({ emit: [], stop: true }); // "bcecd": stop at character 3
    expect(() => s.push(1)).toThrow(/after a stop/);
  });

  it('flushes what is held when generation ends for another reason', () => {
    const s = new StopCriteria([[7, 8, 9]]);
    expect(s.push(7).emit).toEqual([]);
    expect(s.push(8).emit).toEqual([]);
    expect(s.flush()).toEqual([7, 8]);
  });
});

describe('streamText', () => {
  // id 5 then 6 decode together to "é"; a lone 5 is an incomplete character (U+FFFD)
  const decode = (ids: number[]): string => {
    let out = '';
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== 5) out += chars[ids[i]];
      else if (ids[i + 1] === 6) (out += '\u00e9'), i++;
      else out += '\uFFFD';
    }
    return out;
  };

  it('yields the text each token adds, holding a split character until it completes', async () => {
    const pieces: string[] = [];
    for await (const piece of streamText([1, 5, 6, 2], decode)) pieces.push(piece);
    expect(pieces).toEqual(['b', '\u00e9', 'c']);
    const tail: string[] = [];
    for await (const piece of streamText([1, 5], decode)) tail.push(piece);
    expect(tail).toEqual(['b', '\uFFFD']);
  });

  it('streams the text of a generation', async () => {
    const tokens = generate(model(successorRows), [0], { maxNewTokens: 3, temperature: 0 });
    const pieces: string[] = [];
    for await (const piece of streamText(tokens, charCodec.decode)) pieces.push(piece);
    expect(pieces).toEqual(['b', 'c', 'd']);
  });
});
