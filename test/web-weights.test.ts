import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GPT } from '../src/model/gpt.js';
import { fillModel } from '../src/pretrained/loadPlan.js';
import { readCheckedWeights } from '../web/weightsStream.js';

// The page's URL loader reads model.safetensors header-first (web/weightsStream.ts); here the
// download is a stream of 4 KiB chunks that counts how many bytes were pulled.
const dir = join(import.meta.dirname, 'fixtures', 'gemma3-tiny');
const bytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
const ids = (JSON.parse(readFileSync(join(dir, 'llamacpp.json'), 'utf8')) as { input_ids: number[] }).input_ids;

function download(): { stream: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => boolean } {
  let at = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (at >= bytes.length) return c.close();
        c.enqueue(bytes.slice(at, at + 4096));
        at += 4096;
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => Math.min(at, bytes.length), cancelled: () => cancelled };
}

describe('the page reads model.safetensors header-first', () => {
  it('refuses a lying config.json after the header, cancelling the download and allocating nothing', async () => {
    const d = download();
    let error: unknown;
    const info = await tf.profile(async () => {
      await readCheckedWeights(d.stream, bytes.length, { ...config, hidden_size: 4096 }, 'w.safetensors', 'config.json').catch((e: unknown) => (error = e));
    });
    expect(String(error)).toMatch(/config\.json: "hidden_size" is 4096 but the weights have 32/);
    const headerBytes = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerBytes).toBeLessThan(8192);
    expect(d.pulled()).toBeLessThanOrEqual(8192); // two chunks of 4 KiB hold the header; the other 205 KB were never fetched
    expect(d.cancelled()).toBe(true);
    expect([info.newTensors, Math.max(0, info.peakBytes)]).toEqual([0, 0]);
  });

  it('builds the same model as GPT.fromPretrained, with or without a known length', async () => {
    const reference = await GPT.fromPretrained(dir);
    const x = tf.tensor2d([ids], undefined, 'int32');
    const want = await reference.forward(x).array();
    for (const length of [bytes.length, undefined]) {
      const { plan, names, read } = await readCheckedWeights(download().stream, length, config, 'w.safetensors', 'config.json');
      const model = new GPT(plan.config);
      await fillModel(model.namedWeights(), plan, names, read);
      const y = model.forward(x);
      expect(await y.array()).toEqual(want);
      y.dispose();
      model.dispose();
    }
    x.dispose();
    reference.dispose();
  });

  it('names a Content-Length that disagrees with the header, and a download that ends early', async () => {
    await expect(readCheckedWeights(download().stream, bytes.length + 10, config, 'w.safetensors', 'config.json')).rejects.toThrow(/w\.safetensors: the data buffer has 10 trailing bytes/);
    const short = download();
    const cut = new ReadableStream<Uint8Array>({
      async start(c) {
        const r = short.stream.getReader();
        for (let i = 0; i < 3; i++) c.enqueue((await r.read()).value!);
        c.close();
      },
    });
    await expect(readCheckedWeights(cut, bytes.length, config, 'w.safetensors', 'config.json')).rejects.toThrow(`w.safetensors: the download ended after 12288 of ${bytes.length} bytes`);
  });
});
