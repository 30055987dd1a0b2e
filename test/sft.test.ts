import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GPT } from '../src/model/gpt.js';
import { maskedCrossEntropy } from '../src/ops/maskedCrossEntropy.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { disposeBatch, padBatch } from '../src/train/padBatch.js';
import { sftLoss, SFTTrainer } from '../src/train/sft.js';
import { renderSegments, tokenizeSFTData, type TokenizedExample } from '../src/train/sftData.js';
import { expectClose, take } from './helpers.js';

const TEMPLATE_CHARS = '<|>_imstardnuyhkoe\n ';
const tok = CharTokenizer.fromText(TEMPLATE_CHARS + 'abcdefghijklmnopqrstuvwxyz=?');

function tinyModel(vocabSize = tok.vocabSize, blockSize = 96): GPT {
  return new GPT({ vocabSize, blockSize, nLayer: 1, nHead: 2, nEmbd: 16, seed: 3 });
}

/** −ln softmax(z)[y] in plain JS, the independent check of the tfjs op. */
function nll(row: ArrayLike<number>, y: number): number {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) m = Math.max(m, row[i]);
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i] - m);
  return -(row[y] - m - Math.log(s));
}

describe('SFT data', () => {
  it('masks the prompt and template tokens of a chat example position by position', () => {
    const line = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'ok' }] });
    const { examples, truncated } = tokenizeSFTData(line, tok, { maxLength: 200 });
    expect(truncated).toBe(0);
    const ex = examples[0];
    // Rendered: "<|im_start|>user\nhi<|im_end|>\n" (12+5+2+10+1 = 30 chars) then the generation prompt
    // "<|im_start|>assistant\n" (12+10 = 22) = 52 masked characters; then the learned
    // "ok<|im_end|>\n" (2+10+1 = 13). One char per token: 65 tokens.
    expect(ex.ids.length).toBe(65);
    expect(tok.decode(ex.ids.slice(52))).toBe('ok<|im_end|>\n');
    expect(ex.tokenMask).toEqual([...Array<number>(52).fill(0), ...Array<number>(13).fill(1)]);
    // As targets: position t predicts token t+1, so positions 51..63 (13 of the 64) count.
    const b = padBatch([ex]);
    const mask = take(b.mask);
    disposeBatch(b);
    expect(mask.length).toBe(64);
    mask.forEach((m, t) => expect(m).toBe(t >= 51 ? 1 : 0));
  });

  it('masks the prompt of a prompt/completion example and renders a messages prompt with the template', () => {
    const text = [
      JSON.stringify({ prompt: 'abc', completion: 'de' }),
      JSON.stringify({ prompt: [{ role: 'user', content: 'a' }], completion: 'b' }),
    ].join('\n');
    const { examples } = tokenizeSFTData(text, tok, { maxLength: 200 });
    expect(examples[0].tokenMask).toEqual([0, 0, 0, 1, 1]);
    // "<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\n" = 12+5+1+10+1+12+10 = 51 masked, "b<|im_end|>\n" = 12 counted.
    expect(examples[1].tokenMask).toEqual([...Array<number>(51).fill(0), ...Array<number>(12).fill(1)]);
  });

  it('learns every assistant turn of a multi-turn conversation and none of the user turns', () => {
    const segs = renderSegments({
      kind: 'chat',
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'u' },
        { role: 'assistant', content: 'a' },
        { role: 'user', content: 'v' },
        { role: 'assistant', content: 'b' },
      ],
    });
    expect(segs.filter((s) => s.counted).map((s) => s.text)).toEqual(['a<|im_end|>\n', 'b<|im_end|>\n']);
    expect(segs.map((s) => s.text).join('')).toContain('<|im_start|>user\nv<|im_end|>\n<|im_start|>assistant\n');
  });

  it('truncates to maxLength, counts it, and drops examples left without a target', () => {
    const text = [JSON.stringify({ prompt: 'ab', completion: 'cdef' }), JSON.stringify({ prompt: 'abcdef', completion: 'g' })].join('\n');
    const d = tokenizeSFTData(text, tok, { maxLength: 4 });
    expect(d.truncated).toBe(2);
    expect(d.dropped).toBe(1); // "abcd" of the second example has no completion token
    expect(d.examples.map((e) => tok.decode(e.ids))).toEqual(['abcd']);
  });

  it('names the line and the problem of a bad line', () => {
    const good = JSON.stringify({ prompt: 'a', completion: 'b' });
    const bad = (line: string) => () => tokenizeSFTData(`${good}\n\n${line}`, tok, { maxLength: 50, file: 'd.jsonl' });
    expect(bad('{oops')).toThrow(/^d\.jsonl:3: not valid JSON/);
    expect(bad('{"prompt": "a"}')).toThrow(/^d\.jsonl:3: expected "messages", or "prompt" and "completion"/);
    expect(bad('{"messages": [{"role": "bot", "content": "x"}]}')).toThrow(/^d\.jsonl:3: messages\[0\]\.role is "bot"/);
    expect(bad('{"messages": [{"role": "user", "content": "x"}]}')).toThrow(/^d\.jsonl:3: "messages" has no assistant message/);
    expect(bad('{"prompt": "a", "completion": "B"}')).toThrow(/^d\.jsonl:3: .*"B"/); // not in the char vocabulary
  });
});

describe('masked cross-entropy', () => {
  it('averages over counted rows only, and masked rows get no gradient', () => {
    // Row 0: logits (0, 0), target 0 → p = 1/2, nll = ln 2. Row 1: logits (ln 3, 0), target 0 →
    // p = 3/4, nll = ln(4/3). With mask (1, 0) the loss is ln 2 / 1 = 0.693147.
    const z = tf.tensor2d([0, 0, Math.log(3), 0], [2, 2]);
    const y = tf.tensor1d([0, 0], 'int32');
    const m = tf.tensor1d([1, 0]);
    const before = tf.memory().numTensors;
    expectClose(take(maskedCrossEntropy(z, y, m)), [Math.LN2], 1e-6);
    // ∂L/∂z_0 = softmax − onehot = (1/2 − 1, 1/2) = (−0.5, 0.5); row 1 is masked: (0, 0).
    expectClose(take(tf.grad((x: tf.Tensor) => maskedCrossEntropy(x as tf.Tensor2D, y, m))(z)), [-0.5, 0.5, 0, 0], 1e-6);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([z, y, m]);
  });

  it('equals a hand computation from the logits of a tiny model', () => {
    const model = tinyModel();
    const ex: TokenizedExample = { ids: tok.encode('abcdefg'), tokenMask: [0, 0, 0, 1, 1, 0, 1] };
    const before = tf.memory().numTensors;
    const ids = tf.tensor2d([ex.ids.slice(0, 6)], [1, 6], 'int32');
    const logits = take(model.forward(ids)); // (1, 6, V)
    ids.dispose();
    const v = tok.vocabSize;
    // Counted targets: tokens 3, 4, 6 (mask 1), predicted at positions 2, 3, 5.
    const hand = [2, 3, 5].map((t) => nll(logits.slice(t * v, (t + 1) * v), ex.ids[t + 1])).reduce((a, b) => a + b) / 3;
    expectClose(take(sftLoss(model, [ex])), [hand], 1e-5);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('padding never changes an example\'s loss', () => {
    const model = tinyModel();
    const short: TokenizedExample = { ids: tok.encode('abc'), tokenMask: [0, 1, 1] };
    const long: TokenizedExample = { ids: tok.encode('zyxwvutsrq'), tokenMask: [0, 0, 0, 0, 1, 1, 1, 1, 1, 1] };
    const ls = take(sftLoss(model, [short]))[0];
    const ll = take(sftLoss(model, [long]))[0];
    // Batched, `short` is padded with 7 positions; the mean is over 2 + 6 counted tokens:
    // (2·ls + 6·ll) / 8 only if short's loss did not move.
    expectClose(take(sftLoss(model, [short, long])), [(2 * ls + 6 * ll) / 8], 1e-5);
    // And the padded rows' own logits equal the unpadded ones.
    const b = padBatch([short, long]);
    const padded = take(model.forward(b.ids)).slice(0, 2 * tok.vocabSize);
    disposeBatch(b);
    const alone = tf.tensor2d([short.ids.slice(0, 2)], [1, 2], 'int32');
    expectClose(padded, take(model.forward(alone)), 1e-5);
    alone.dispose();
    model.dispose();
  });
});

describe('SFTTrainer', () => {
  it('a tiny model learns the completions, with numTensors flat', async () => {
    const lines = ['ab', 'cd', 'ef', 'gh'].map((p, i) => JSON.stringify({ prompt: `q${p}?`, completion: `=${'xyzw'[i]}` }));
    const { examples } = tokenizeSFTData(lines.join('\n'), tok, { maxLength: 20 });
    const model = tinyModel(tok.vocabSize, 16);
    const before = tf.memory().numTensors;
    const trainer = new SFTTrainer(model, examples, { maxIters: 60, lr: 1e-2, batchSize: 2, gradAccumSteps: 2, evalInterval: 60, logInterval: 20 });
    const first = (await trainer.evaluate()).evalLoss;
    const last = await trainer.train();
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // From about ln V (V = 38 → 3.6) toward 0: the answers are a function of the prompt.
    expect(first).toBeGreaterThan(2.5);
    expect(last?.evalLoss).toBeLessThan(0.5);
    expect(last?.evalTokens).toBe(8); // 4 examples × 2 completion tokens
    model.dispose();
  });
});
