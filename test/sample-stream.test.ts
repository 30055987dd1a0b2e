/**
 * Streaming text out of generation: incremental decoding (linear work, split UTF-8 characters
 * kept whole), exact stop strings on the text stream, and `tinygpt sample` in a real process
 * that stops quietly with exit 0 when its reader closes the pipe.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { saveCheckpoint } from '../src/io/checkpoint.js';
import { GPT } from '../src/model/gpt.js';
import { TextStopper } from '../src/sample/stopText.js';
import { StopCriteria } from '../src/sample/stopping.js';
import { IncrementalDecoder, streamText } from '../src/sample/streamer.js';
import { BPETokenizer } from '../src/tokenizer/bpe.js';
import { CharTokenizer } from '../src/tokenizer/char.js';
import { randomTokens } from './helpers.js';

const backend = process.env.TINYGPT_BACKEND ?? 'cpu';

/** A byte-level BPE with only a few merges, so "é", "ü" and "🙂" are split over 2 to 4 tokens. */
const corpus = 'héllo wörld 🙂 naïve café — ünïcödé 🙂🙂 ';
const bpe = BPETokenizer.train(corpus.repeat(4), 264);

describe('IncrementalDecoder / streamText', () => {
  it('decodes a byte-level stream piece by piece, equal to one decode of the whole, with no U+FFFD', async () => {
    const ids = bpe.encode(corpus.repeat(30));
    // The tokens really split characters: some token alone is not valid UTF-8.
    expect(ids.some((id) => bpe.decode([id]).includes('\uFFFD'))).toBe(true);
    const pieces: string[] = [];
    for await (const p of streamText(ids, (x) => bpe.decode(x))) pieces.push(p);
    expect(pieces.join('')).toBe(corpus.repeat(30));
    expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
  });

  it('does work linear in the length: each token costs a bounded number of decoded ids', async () => {
    // Re-decoding everything per token would decode n(n+1)/2 = 50,005,000 ids for n = 10,000.
    const n = 10_000;
    const ids = randomTokens(5, n, bpe.vocabSize);
    let decodedIds = 0;
    const counting = (x: number[]): string => {
      decodedIds += x.length;
      return bpe.decode(x);
    };
    let text = '';
    for await (const piece of streamText(ids, counting)) text += piece;
    // Per push: a window of at most 4 context + 8 pending ids, decoded twice → < 24 ids.
    expect(decodedIds).toBeLessThan(24 * n);
    // Random bytes include invalid UTF-8 for good: those come out as U+FFFD, like one decode does.
    expect(text).toBe(bpe.decode(ids));
  });

  it('releases bytes that can never complete a character after 8 tokens', () => {
    // Byte 0xC3 starts a 2-byte sequence; another 0xC3 is not a continuation byte, so none completes.
    const lone = Array.from({ length: bpe.vocabSize }, (_, id) => id).find((id) => {
      const b = bpe.decodeBytes([id]);
      return b.length === 1 && b[0] === 0xc3;
    }) as number;
    const dec = new IncrementalDecoder((x) => bpe.decode(x));
    const out = Array.from({ length: 8 }, () => dec.push(lone));
    expect(out.slice(0, 7)).toEqual(Array(7).fill(''));
    expect(out[7]).toBe('\uFFFD'.repeat(8));
  });
});

describe('TextStopper', () => {
  it('cuts exactly before the stop, holding back only a possible prefix', () => {
    const s = new TextStopper(['\n\n', 'END']);
    expect(s.push('ab\n')).toEqual({ text: 'ab', stop: false }); // "\n" may start "\n\n"
    expect(s.push('cE')).toEqual({ text: '\nc', stop: false }); // "E" may start "END"
    expect(s.push('Nx')).toEqual({ text: 'ENx', stop: false });
    expect(s.push('yE')).toEqual({ text: 'y', stop: false });
    expect(s.push('NDzz')).toEqual({ text: '', stop: true }); // "END" completes: the stop and what follows are dropped
  });

  it('flushes the held text when the stream ends without a stop', () => {
    const s = new TextStopper(['xyz']);
    expect(s.push('abx')).toEqual({ text: 'ab', stop: false });
    expect(s.push('y')).toEqual({ text: '', stop: false });
    expect(s.flush()).toBe('xy');
  });
});

describe('StopCriteria with stop strings', () => {
  it('decodes only a short window per token (linear, not quadratic)', () => {
    let decodedIds = 0;
    const chars = 'abcdefghij';
    const decode = (ids: number[]): string => {
      decodedIds += ids.length;
      return ids.map((i) => chars[i]).join('');
    };
    const s = new StopCriteria(['jj'], decode, 10);
    const n = 5000;
    let emitted = 0;
    // 0, 1, ..., 8 repeating never contains "jj": every token is released at once.
    for (let i = 0; i < n; i++) emitted += s.push(i % 9).emit.length;
    expect(emitted).toBe(n);
    // Whole-history decoding would be n(n+1)/2 ≈ 12.5 million ids.
    expect(decodedIds).toBeLessThan(20 * n);
  });
});

describe('tinygpt sample in a real process', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tinygpt-stream-'));
    const tok = CharTokenizer.fromText('the cat sat on the mat.\n');
    const model = new GPT({ vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, seed: 3 });
    await saveCheckpoint(join(scratch, 'ckpt'), { config: { model_type: 'tinygpt', ...model.config }, weights: model.namedWeights(), tokenizer: tok.toJSON() });
    model.dispose();
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('stops quietly with exit 0 when the reader closes the pipe (| head -c 100)', async () => {
    // 50 million tokens would take hours: the process can only end this fast by noticing EPIPE.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sample', '--checkpoint', join(scratch, 'ckpt'),
      '--max-new-tokens', '50000000', '--backend', backend], { stdio: ['ignore', 'pipe', 'pipe'] });
    // If it does not notice (the bug), the test times out: end the child then, not hours later.
    onTestFinished(() => void (child.exitCode === null && child.kill()));
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let got = 0;
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (b: Buffer) => {
        got += b.length;
        if (got >= 100) {
          child.stdout.destroy(); // what head does after 100 bytes
          resolve();
        }
      });
    });
    const code = await exit;
    expect(got).toBeGreaterThanOrEqual(100);
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
  }, 60_000);
});
