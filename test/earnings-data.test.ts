import { describe, expect, it } from 'vitest';
import { ANSWER_PATTERN, formatAnswer, generateEarnings, parseAnswer } from '../src/data/earnings.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { tokenizePreferenceData } from '../src/train/dpoData.js';
import { tokenizeSFTData } from '../src/train/sftData.js';

describe('earnings sentiment data', () => {
  const d = generateEarnings(7, { sftTrain: 200, sftTest: 50, dpoTrain: 150, dpoTest: 50, corpus: 300 });

  it('is seeded: the same seed gives the same data, another seed other data', () => {
    expect(generateEarnings(7, { sftTrain: 200, sftTest: 50, dpoTrain: 150, dpoTest: 50, corpus: 300 })).toEqual(d);
    expect(generateEarnings(8, { sftTrain: 200, sftTest: 50, dpoTrain: 150, dpoTest: 50, corpus: 300 }).sftTrain).not.toEqual(d.sftTrain);
  });

  it('writes answers in the exact format, with the label matching the sentence', () => {
    expect(formatAnswer('negative', -0.9)).toBe('LABEL=negative\nSCORE=-0.9');
    expect(parseAnswer('LABEL=neutral\nSCORE=0.0')).toEqual({ label: 'neutral', score: 0 });
    expect(parseAnswer('LABEL=neutral\nSCORE=0.0\n')).toBeNull(); // nothing may follow
    expect(parseAnswer('label=neutral\nscore=0.0')).toBeNull();
    // 10% of the training answers are off-format demonstrations (sftFormatNoise); held-out ones never.
    const offFormat = d.sftTrain.filter((l) => parseAnswer(l.messages[1].content) === null).length;
    expect(offFormat).toBeGreaterThan(5);
    expect(offFormat).toBeLessThan(40);
    expect(d.sftTest.every((l) => parseAnswer(l.messages[1].content) !== null)).toBe(true);
    for (const l of d.sftTrain) {
      const answer = parseAnswer(l.messages[1].content);
      if (answer === null) continue;
      const s = l.messages[0].content;
      // Flat verbs ⇒ neutral; otherwise "% " appears and the sign follows the verb list.
      if (answer?.label === 'neutral') expect(s).not.toContain('%');
      else expect(Math.sign(answer?.score ?? 0)).toBe(answer?.label === 'positive' ? 1 : -1);
    }
  });

  it('pairs a correct in-format answer with a wrong or off-format one', () => {
    let wrongLabel = 0;
    let wrongScore = 0;
    let offFormat = 0;
    for (const p of d.dpoTrain) {
      expect(ANSWER_PATTERN.test(p.chosen)).toBe(true);
      expect(p.rejected).not.toBe(p.chosen);
      const r = parseAnswer(p.rejected);
      if (r === null) offFormat += 1;
      else if (r.label !== parseAnswer(p.chosen)?.label) wrongLabel += 1;
      else {
        expect(r.score).not.toBe(parseAnswer(p.chosen)?.score);
        wrongScore += 1;
      }
    }
    // About a third of 150 each.
    for (const n of [wrongLabel, wrongScore, offFormat]) expect(n).toBeGreaterThan(30);
  });

  it('keeps held-out sentences out of every training split', () => {
    const sentence = (content: string): string => content.split('\n')[1];
    const test = new Set([...d.sftTest.map((l) => sentence(l.messages[0].content)), ...d.dpoTest.map((l) => sentence(l.prompt[0].content))]);
    const train = [...d.sftTrain.map((l) => sentence(l.messages[0].content)), ...d.dpoTrain.map((l) => sentence(l.prompt[0].content)), ...d.corpus];
    expect(train.filter((s) => test.has(s))).toEqual([]);
  });

  it('loads with the SFT and DPO readers', () => {
    const all = [...d.sftTrain, ...d.dpoTrain].map((x) => JSON.stringify(x)).join('\n');
    const tok = CharTokenizer.fromText(all + '<|im_start|>assistant\n<|im_end|>');
    const sft = tokenizeSFTData(d.sftTrain.map((x) => JSON.stringify(x)).join('\n'), tok, { maxLength: 256 });
    const dpo = tokenizePreferenceData(d.dpoTrain.map((x) => JSON.stringify(x)).join('\n'), tok, { maxLength: 256 });
    expect(sft.examples.length).toBe(200);
    expect(sft.truncated).toBe(0);
    expect(dpo.pairs.length).toBe(150);
  });
});
