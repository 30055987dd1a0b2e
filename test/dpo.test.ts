import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GPT } from '../src/model/gpt.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { dpoLoss, dpoMetrics, DPOTrainer, pairLogProbs } from '../src/train/dpo.js';
import { tokenizePreferenceData, type PreferencePair } from '../src/train/dpoData.js';
import { disposeBatch, padBatch } from '../src/train/padBatch.js';
import { sequenceLogProbs } from '../src/ops/maskedCrossEntropy.js';
import { sftLoss } from '../src/train/sft.js';
import { expectClose, take } from './helpers.js';

const tok = CharTokenizer.fromText('<|>_\n abcdefghijklmnopqrstuvwxyz=?');

function tinyModel(): GPT {
  return new GPT({ vocabSize: tok.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, seed: 5 });
}

function pairsOf(lines: object[], maxLength = 16): PreferencePair[] {
  return tokenizePreferenceData(lines.map((l) => JSON.stringify(l)).join('\n'), tok, { maxLength }).pairs;
}

const PAIRS = [
  { prompt: 'ab?', chosen: '=x', rejected: '=y' },
  { prompt: 'cd?', chosen: '=y', rejected: 'zz' },
  { prompt: 'ef?', chosen: '=z', rejected: '=x' },
];

describe('DPO loss', () => {
  it('matches a hand-made example, value and gradient', () => {
    // Pair 1: π_c = −1, π_r = −2, ref_c = ref_r = −1.5, β = 0.5:
    //   Δ = (−1 + 1.5) − (−2 + 1.5) = 1, z = βΔ = 0.5, loss = ln(1 + e^−0.5) = 0.474077.
    // Pair 2: π_c = π_r = ref = −3: z = 0, loss = ln 2 = 0.693147. Mean = 0.583612.
    // ∂(mean)/∂π_c = −β·σ(−z)/2: pair 1 −0.5·0.377541/2 = −0.094385, pair 2 −0.5·0.5/2 = −0.125;
    // ∂/∂π_r is the opposite.
    const pc = tf.tensor1d([-1, -3]);
    const pr = tf.tensor1d([-2, -3]);
    const rc = tf.tensor1d([-1.5, -3]);
    const rr = tf.tensor1d([-1.5, -3]);
    const before = tf.memory().numTensors;
    expectClose(take(dpoLoss(pc, pr, rc, rr, 0.5)), [0.583612], 1e-6);
    const [gc, gr] = tf.grads((a: tf.Tensor, b: tf.Tensor) => dpoLoss(a as tf.Tensor1D, b as tf.Tensor1D, rc, rr, 0.5))([pc, pr]);
    expectClose(take(gc), [-0.094385, -0.125], 1e-6);
    expectClose(take(gr), [0.094385, 0.125], 1e-6);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([pc, pr, rc, rr]);
  });

  it('computes TRL\'s metrics from log-probs', () => {
    // β = 0.5; pair 1 rewards c = 0.5·(−1 + 1.5) = 0.25, r = 0.5·(−2 + 1.5) = −0.25; pair 2: 0 and 0.
    const m = dpoMetrics(
      { chosen: Float32Array.of(-1, -3), rejected: Float32Array.of(-2, -3) },
      { chosen: Float32Array.of(-1.5, -3), rejected: Float32Array.of(-1.5, -3) },
      0.5,
    );
    expect(m['rewards/chosen']).toBeCloseTo(0.125, 6);
    expect(m['rewards/rejected']).toBeCloseTo(-0.125, 6);
    expect(m['rewards/margins']).toBeCloseTo(0.25, 6);
    expect(m['rewards/accuracies']).toBe(0.5); // pair 2 ties: not counted as preferred
    expect(m['logps/chosen']).toBeCloseTo(-2, 6);
    expect(m['logps/rejected']).toBeCloseTo(-2.5, 6);
    expect(m.loss).toBeCloseTo(0.583612, 5);
  });

  it('sums sequence log-probs over the response tokens only', () => {
    const [pair] = pairsOf([PAIRS[0]]);
    expect(pair.chosen.tokenMask).toEqual([0, 0, 0, 1, 1]); // "ab?" masked, "=x" counted
    const model = tinyModel();
    const b = padBatch([pair.chosen]);
    const logits = take(model.forward(b.ids)); // (1, 4, V)
    const lp = take(sequenceLogProbs(model.forward(b.ids), b.targets, b.mask));
    disposeBatch(b);
    const v = tok.vocabSize;
    const logp = (t: number, y: number): number => {
      const row = logits.slice(t * v, (t + 1) * v);
      const m = Math.max(...row);
      return row[y] - m - Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
    };
    // Targets "=" at position 2 and "x" at position 3.
    expectClose(lp, [logp(2, pair.chosen.ids[3]) + logp(3, pair.chosen.ids[4])], 1e-5);
    model.dispose();
  });

  it('the loss matches finite differences on a tiny model', () => {
    const model = tinyModel();
    const pairs = pairsOf(PAIRS);
    const batch = padBatch([...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)]);
    const rc = tf.tensor1d([-7, -6.5, -7.2]);
    const rr = tf.tensor1d([-6.8, -7, -7.1]);
    const f = (): tf.Scalar =>
      tf.tidy(() => {
        const lp = sequenceLogProbs(model.forward(batch.ids), batch.targets, batch.mask); // (6,)
        return dpoLoss(tf.slice(lp, 0, 3), tf.slice(lp, 3, 3), rc, rr, 2);
      });
    const w = model.namedWeights().get('h.0.mlp.c_fc.weight') as tf.Variable;
    const { grads } = tf.variableGrads(f, [w]);
    const g = take(grads[w.name]);
    const base = Float32Array.from(w.dataSync());
    const eps = 1e-2;
    for (const idx of [0, 17, 100]) {
      const at = (d: number): number => {
        const x = base.slice();
        x[idx] += d;
        w.assign(tf.tensor(x, w.shape));
        return take(f())[0];
      };
      // Central difference (L(w + ε) − L(w − ε)) / 2ε, float32 so a loose tolerance.
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs(fd - g[idx])).toBeLessThan(2e-3 + 0.02 * Math.abs(g[idx]));
    }
    expect(g.some((x) => Math.abs(x) > 1e-4)).toBe(true);
    disposeBatch(batch);
    tf.dispose([rc, rr]);
    model.dispose();
  });
});

describe('DPOTrainer', () => {
  it('starts at loss ln 2 (policy = reference), then learns to prefer the chosen answers; numTensors flat', async () => {
    const model = tinyModel();
    const pairs = pairsOf(PAIRS);
    const before = tf.memory().numTensors;
    const trainer = new DPOTrainer(model, pairs, { beta: 0.5, maxIters: 40, lr: 1e-2, batchSize: 3, evalInterval: 40, logInterval: 10 });
    const start = await trainer.evaluate();
    expect(start.loss).toBeCloseTo(Math.LN2, 6);
    expect(start['rewards/chosen']).toBe(0);
    expect(start['rewards/margins']).toBe(0);
    const end = await trainer.train();
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(end?.loss).toBeLessThan(0.2);
    expect(end?.['rewards/accuracies']).toBe(1);
    expect(end?.['rewards/margins']).toBeGreaterThan(2);
    const lp = await pairLogProbs(model, pairs);
    lp.chosen.forEach((c, i) => expect(c).toBeGreaterThan(lp.rejected[i]));
    model.dispose();
  });

  it('rpoAlpha adds α · the chosen answers\' mean NLL per token to the step loss', async () => {
    const model = tinyModel();
    const pairs = pairsOf(PAIRS);
    // Chosen tokens: 2 per pair ("=x" etc.), 6 in all; the SFT loss of the chosen sequences is that mean NLL.
    const nll = take(sftLoss(model, pairs.map((p) => p.chosen)))[0];
    const trainer = new DPOTrainer(model, pairs, { beta: 0.5, rpoAlpha: 2, maxIters: 1, batchSize: 3, logInterval: 1, evalInterval: 1 });
    const recs = [];
    for await (const r of trainer.run()) recs.push(r);
    trainer.dispose();
    // Step 1's loss is measured before its update: ln 2 (policy = reference) + 2 · nll.
    expect(recs[0].kind).toBe('step');
    expect(recs[0].loss).toBeCloseTo(Math.LN2 + 2 * nll, 5);
    model.dispose();
  });

  it('names the line and the problem of a bad preference line', () => {
    const run = (line: string) => () => tokenizePreferenceData(line, tok, { maxLength: 16, file: 'p.jsonl' });
    expect(run('{"prompt": "a", "chosen": "b"}')).toThrow(/^p\.jsonl:1: expected a JSON object with "prompt", "chosen" and "rejected"/);
    expect(run('{"prompt": "a", "chosen": "b", "rejected": ""}')).toThrow(/^p\.jsonl:1: "rejected" must not be empty/);
    expect(run('{"prompt": [{"role": "user"}], "chosen": "b", "rejected": "c"}')).toThrow(/^p\.jsonl:1: prompt\[0\]\.content must be a string/);
  });

  it('accepts a messages prompt, masking the template', () => {
    const [p] = pairsOf([{ prompt: [{ role: 'user', content: 'a' }], chosen: 'b', rejected: [{ role: 'assistant', content: 'c' }] }], 100);
    // Masked: "<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\n" = 51 chars; counted "b<|im_end|>\n" = 12.
    expect(p.chosen.tokenMask.filter((m) => m === 1).length).toBe(12);
    expect(tok.decode(p.rejected.ids.slice(51))).toBe('c<|im_end|>\n');
  });
});
