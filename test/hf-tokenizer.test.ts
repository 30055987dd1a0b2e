import { Tokenizer as OracleTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { HFTokenizer } from '../src/tokenizer/hf/tokenizer.js';
import { splitText } from '../src/tokenizer/hf/pretokenizers.js';
import { tokenizerFromJSON } from '../src/tokenizer/load.js';
import { createRng } from '../src/util/rng.js';
import { byteLevelTokenizer, CORPUS, llama3Tokenizer, SAMPLES, sentencePieceTokenizer } from './hfTokenizerFixtures.js';

/** Special-token text mixed into ordinary text, per fixture family. */
const SPECIAL_TEXTS: Record<string, readonly string[]> = {
  llama2: ['<s>hello</s> world', 'a <s> b</s>', '<unk>?'],
  gemma: ['<bos><start_of_turn>user\nhi there<end_of_turn>\n<start_of_turn>model\n', 'x<eos>y', '<start_of_turn> spaced <end_of_turn>'],
  bytelevel: ['x<|endoftext|>y <|endoftext|> z', '<|endoftext|>'],
  llama3: [
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHI THERE'S IT'LL WE'VE<|eot_id|>",
    'a [MASK] b',
    'a[MASK]b',
    '  [MASK]  x',
  ],
};

const FIXTURES: [string, () => Record<string, unknown>, readonly string[]][] = [
  ['Llama-2 style (Prepend+Replace, [a,b] merges)', () => sentencePieceTokenizer({ style: 'llama2' }), SPECIAL_TEXTS.llama2],
  ['Llama-2 style ("a b" merges)', () => sentencePieceTokenizer({ style: 'llama2', stringMerges: true }), SPECIAL_TEXTS.llama2],
  ['Gemma style (Replace, turn tokens)', () => sentencePieceTokenizer({ style: 'gemma' }), SPECIAL_TEXTS.gemma],
  ['Metaspace prepend_scheme first', () => sentencePieceTokenizer({ style: 'metaspace' }), SPECIAL_TEXTS.llama2],
  ['Metaspace split, prepend_scheme always', () => sentencePieceTokenizer({ style: 'metaspace', split: true, prependScheme: 'always' }), SPECIAL_TEXTS.llama2],
  ['GPT-2 ByteLevel', () => byteLevelTokenizer(), SPECIAL_TEXTS.bytelevel],
  ['GPT-2 ByteLevel ("a b" merges, add_prefix_space)', () => byteLevelTokenizer({ stringMerges: true, addPrefixSpace: true }), SPECIAL_TEXTS.bytelevel],
  ['Llama-3 style (Split regex + ByteLevel, ignore_merges)', () => llama3Tokenizer(), SPECIAL_TEXTS.llama3],
];

/** tokenizer_config.json for both sides: transformers now defaults clean-up to off; the oracle to on. */
const CONFIG = { clean_up_tokenization_spaces: false };

/**
 * Whether the ids hold a run of <0xNN> byte tokens that is not valid UTF-8. There Hugging Face's
 * Rust ByteFallback (which transformers uses, and tinygpt follows) writes one U+FFFD per byte,
 * while the JavaScript oracle's TextDecoder writes one per maximal invalid subpart.
 */
function invalidByteRun(tok: HFTokenizer, ids: readonly number[]): boolean {
  const strict = new TextDecoder('utf-8', { fatal: true });
  let run: number[] = [];
  const bad = () => {
    try {
      strict.decode(Uint8Array.from(run));
      return false;
    } catch {
      return true;
    } finally {
      run = [];
    }
  };
  for (const id of ids) {
    const m = /^<0x([0-9A-F]{2})>$/.exec(tok.idToToken(id) ?? '');
    if (m) run.push(parseInt(m[1], 16));
    else if (run.length > 0 && bad()) return true;
  }
  return run.length > 0 && bad();
}

describe('HFTokenizer against @huggingface/tokenizers', () => {
  for (const [name, build, specials] of FIXTURES) {
    it(`${name}: identical ids and decoded strings`, () => {
      const json = build();
      const mine = HFTokenizer.fromJSON(json, CONFIG);
      const oracle = new OracleTokenizer(json, CONFIG);
      let compared = 0;
      for (const text of [...SAMPLES, ...specials]) {
        for (const add of [true, false]) {
          const ids = mine.encode(text, { addSpecialTokens: add });
          expect(ids, `encode ${JSON.stringify(text)} addSpecialTokens=${add}`).toEqual(oracle.encode(text, { add_special_tokens: add }).ids);
          if (ids.length === 0) continue; // the oracle refuses to decode []
          for (const skip of [false, true]) {
            expect(mine.decode(ids, { skipSpecialTokens: skip })).toBe(oracle.decode(ids, { skip_special_tokens: skip }));
            compared++;
          }
        }
      }
      expect(compared).toBeGreaterThan(40);
      // Random id sequences hit partial UTF-8 (bytes cut between tokens), lone byte tokens and specials.
      const rng = createRng(7);
      let random = 0;
      for (let k = 0; k < 300; k++) {
        const ids = Array.from({ length: 1 + rng.nextInt(12) }, () => rng.nextInt(mine.vocabSize));
        if (invalidByteRun(mine, ids)) continue;
        expect(mine.decode(ids), JSON.stringify(ids)).toBe(oracle.decode(ids));
        random++;
      }
      expect(random).toBeGreaterThan(60);
    });
  }

  it('long pieces (a Gemma-style tokenizer has no pre-tokenizer: one piece per paragraph) match too', () => {
    const json = sentencePieceTokenizer({ style: 'gemma' });
    const mine = HFTokenizer.fromJSON(json, CONFIG);
    const oracle = new OracleTokenizer(json, CONFIG);
    // ~25k characters between special tokens, with every sample mixed in.
    const text = Array.from({ length: 20 }, (_, i) => CORPUS.replaceAll('\n', ' ') + SAMPLES[i % SAMPLES.length]).join('<end_of_turn>');
    const ids = mine.encode(text);
    expect(ids).toEqual(oracle.encode(text).ids);
    expect(mine.decode(ids)).toBe(oracle.decode(ids));
    expect(ids.length).toBeLessThan(text.length / 2); // merges did their work
  });

  it('the fixtures really exercise merges and byte fallback', () => {
    const tok = HFTokenizer.fromJSON(sentencePieceTokenizer({ style: 'llama2' }));
    const ids = tok.encode('the results 🙂', { addSpecialTokens: false });
    const tokens = ids.map((i) => tok.idToToken(i));
    // "▁the" is a learned merge; 🙂 (U+1F642) is not in the vocab: its 4 UTF-8 bytes F0 9F 99 82.
    expect(tokens[0]).toBe('▁the');
    expect(tokens.slice(-4)).toEqual(['<0xF0>', '<0x9F>', '<0x99>', '<0x82>']);
    expect(tok.decode(ids)).toBe('the results 🙂');
  });

  it('cleans up spaces before punctuation like the oracle when clean_up_tokenization_spaces is on', () => {
    const json = sentencePieceTokenizer({ style: 'llama2' });
    const config = { clean_up_tokenization_spaces: true };
    const mine = HFTokenizer.fromJSON(json, config);
    const oracle = new OracleTokenizer(json, config);
    for (const text of ['<s> ?', "a , b . c ! it 's", '<unk>?']) {
      const ids = mine.encode(text);
      expect(mine.decode(ids)).toBe(oracle.decode(ids));
    }
  });

  it('Metaspace with prepend_scheme "never" keeps a leading space when decoding (nothing was prepended)', () => {
    // Hugging Face's Rust decoder drops the first "▁" only when the pre-tokenizer may have added it;
    // the JavaScript oracle drops it always, so this case is checked by hand: decode(encode(s)) === s.
    const json = sentencePieceTokenizer({ style: 'metaspace', split: true, prependScheme: 'never' });
    const tok = HFTokenizer.fromJSON(json, CONFIG);
    const oracle = new OracleTokenizer(json, CONFIG);
    for (const text of [' leading space', 'no leading', '  two']) {
      const ids = tok.encode(text);
      expect(ids).toEqual(oracle.encode(text).ids);
      expect(tok.decode(ids, { skipSpecialTokens: true })).toBe(text);
    }
  });

  it('writes one U+FFFD per byte of an invalid byte-fallback run, as Hugging Face (Rust) does', () => {
    const tok = HFTokenizer.fromJSON(sentencePieceTokenizer({ style: 'llama2' }));
    const id = (t: string) => tok.tokenToId(t) as number;
    // E6 97 is a 3-byte sequence cut short; E6 01 is a lead byte then ASCII: the whole run is invalid.
    expect(tok.decode([id('<0xE6>'), id('<0x97>')])).toBe('\uFFFD\uFFFD');
    expect(tok.decode([id('<0xE6>'), id('<0x01>')])).toBe('\uFFFD\uFFFD');
    expect(tok.decode([id('<0xE6>'), id('<0x97>'), id('<0xA5>')])).toBe('日');
  });
});

describe('HFTokenizer behaviour beyond the oracle', () => {
  it('add_bos_token / add_eos_token from tokenizer_config.json rebuild the post-processor', () => {
    const json = sentencePieceTokenizer({ style: 'gemma' });
    const plain = HFTokenizer.fromJSON(json, {}).encode('hi', { addSpecialTokens: false });
    const tok = HFTokenizer.fromJSON(json, { bos_token: '<bos>', eos_token: { content: '<eos>' }, add_bos_token: true, add_eos_token: true });
    // Gemma fixture ids: <pad> 0, <eos> 1, <bos> 2 (written in that order by the fixture).
    expect(tok.bosTokenId).toBe(2);
    expect(tok.eosTokenId).toBe(1);
    expect(tok.encode('hi')).toEqual([2, ...plain, 1]);
    const noBos = HFTokenizer.fromJSON(json, { bos_token: '<bos>', add_bos_token: false });
    expect(noBos.encode('hi')).toEqual(plain);
  });

  it('splitText keeps delimiters as each Hugging Face behaviour says', () => {
    // "a-b--c" with matches "-" at 1, 3, 4.
    const text = 'a-b--c';
    const ranges: [number, number][] = [[1, 2], [3, 4], [4, 5]];
    const pieces = (b: Parameters<typeof splitText>[2], inv = false) => splitText(text, ranges, b, inv).map((p) => p.text);
    expect(pieces('Removed')).toEqual(['a', 'b', 'c']);
    expect(pieces('Isolated')).toEqual(['a', '-', 'b', '-', '-', 'c']);
    expect(pieces('MergedWithPrevious')).toEqual(['a-', 'b-', '-', 'c']);
    expect(pieces('MergedWithNext')).toEqual(['a', '-b', '-', '-c']);
    expect(pieces('Contiguous')).toEqual(['a', '-', 'b', '--', 'c']);
    expect(pieces('Removed', true)).toEqual(['-', '-', '-']);
  });

  it('reads chat templates (string or named list) and bos/eos from tokenizer_config.json', () => {
    const json = sentencePieceTokenizer({ style: 'gemma' });
    const t1 = HFTokenizer.fromJSON(json, { chat_template: '{{ bos_token }}X' , bos_token: '<bos>' });
    expect(t1.chatTemplate).toBe('{{ bos_token }}X');
    expect(t1.applyChatTemplate([{ role: 'user', content: 'q' }])).toBe('<bos>X');
    const t2 = HFTokenizer.fromJSON(json, { chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }] });
    expect(t2.chatTemplate).toBe('D');
    expect(t2.applyChatTemplate([{ role: 'user', content: 'q' }], { templateName: 'tool_use' })).toBe('T');
    expect(() => HFTokenizer.fromJSON(json, {}).applyChatTemplate([{ role: 'user', content: 'q' }])).toThrow(/has no chat_template/);
  });

  it('round-trips through toJSON and tokenizerFromJSON, and reads a bare tokenizer.json', () => {
    const json = sentencePieceTokenizer({ style: 'gemma' });
    const tok = HFTokenizer.fromJSON(json, { bos_token: '<bos>', chat_template: 'C' });
    const back = tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
    expect(back).toBeInstanceOf(HFTokenizer);
    expect(back.encode('Tabs\tand 日本')).toEqual(tok.encode('Tabs\tand 日本'));
    expect((back as HFTokenizer).chatTemplate).toBe('C');
    expect(tokenizerFromJSON(json)).toBeInstanceOf(HFTokenizer);
  });

  it('names unsupported component types and bad fields in one line', () => {
    const base = sentencePieceTokenizer({ style: 'llama2' });
    expect(() => HFTokenizer.fromJSON({ ...base, model: { type: 'Unigram', vocab: [] } })).toThrow(
      /model type "Unigram" is not supported by tinygpt \(supported: BPE\)/,
    );
    expect(() => HFTokenizer.fromJSON({ ...base, normalizer: { type: 'BertNormalizer' } })).toThrow(/normalizer type "BertNormalizer" is not supported/);
    expect(() => HFTokenizer.fromJSON({ ...base, pre_tokenizer: { type: 'FixedLength' } })).toThrow(/pre_tokenizer type "FixedLength" is not supported/);
    expect(() => HFTokenizer.fromJSON({ ...base, decoder: { type: 'CTC' } })).toThrow(/decoder type "CTC" is not supported/);
    expect(() => HFTokenizer.fromJSON({ ...base, post_processor: { type: 'Unknown' } })).toThrow(/post_processor type "Unknown" is not supported/);
    expect(() => HFTokenizer.fromJSON({ ...base, normalizer: { type: 'Precompiled', precompiled_charsmap: '' } })).toThrow(/Precompiled/);
    const model = base.model as Record<string, unknown>;
    expect(() => HFTokenizer.fromJSON({ ...base, model: { ...model, merges: [['▁', 'nope-not-a-token']] } })).toThrow(
      /merge 0 \("▁", "nope-not-a-token"\) uses or makes a token missing from the vocab/,
    );
  });
});
