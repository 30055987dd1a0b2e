/**
 * Small Hugging Face tokenizer.json files built by the tests themselves: a SentencePiece-style
 * BPE (Llama-2 / Gemma: "▁" word marks, <0xNN> byte fallback) whose merges are learned here by
 * a plain character-level BPE, and a GPT-2-style ByteLevel BPE whose merges come from
 * tinygpt's BPETokenizer. Vocabularies are deliberately small so that emoji, CJK and rare
 * characters fall back to bytes.
 */
import { gpt2ByteToChar } from '../src/tokenizer/bpe-bytes.js';
import { BPETokenizer } from '../src/tokenizer/bpe.js';

/** A few paragraphs written for these tests (no outside corpus). */
export const CORPUS = [
  'The quarterly results were strong: revenue grew by twelve percent and margins improved.',
  'Management expects demand to stay firm, although costs for freight and energy remain high.',
  'We are pleased with the progress of the new product line, which launched in the spring.',
  'The board approved a dividend and a share buyback; the outlook for next year is cautious.',
  'Analysts asked about the weaker sales in Europe, where the market has been soft for months.',
  "It's the team's view that we'll keep investing, and they've said they're ready to grow.",
  'Numbers: 2023, 2024, 100 units, 3.5 million, 42.',
  'def main():\n    print("hello world")\n\treturn 0\n',
].join('\n');

/** Byte-fallback token names, <0x00>..<0xFF>. */
function byteTokens(): string[] {
  return Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
}

/** Learns `count` merges over words given as character arrays (most frequent pair; ties: smaller pair string). */
function learnMerges(words: Map<string, number>, count: number): [string, string][] {
  const split = [...words].map(([w, f]) => ({ parts: Array.from(w), f }));
  const merges: [string, string][] = [];
  for (let m = 0; m < count; m++) {
    const pairs = new Map<string, number>();
    for (const { parts, f } of split) {
      for (let i = 0; i + 1 < parts.length; i++) {
        const k = parts[i] + '\u0000' + parts[i + 1];
        pairs.set(k, (pairs.get(k) ?? 0) + f);
      }
    }
    let best = '';
    let bestF = 0;
    for (const [k, f] of pairs) if (f > bestF || (f === bestF && best !== '' && k < best)) [best, bestF] = [k, f];
    if (best === '') break;
    const [a, b] = best.split('\u0000');
    merges.push([a, b]);
    for (const w of split) {
      const next: string[] = [];
      for (let i = 0; i < w.parts.length; i++) {
        if (i + 1 < w.parts.length && w.parts[i] === a && w.parts[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(w.parts[i]);
      }
      w.parts = next;
    }
  }
  return merges;
}

/** Options of {@link sentencePieceTokenizer}. */
export interface SPOptions {
  /** 'llama2': Prepend+Replace normalizer, <s>/</s>, Strip decoder; 'gemma': Replace only, <bos>/<eos>, turn tokens; 'metaspace': Metaspace pre-tokenizer and decoder. */
  readonly style: 'llama2' | 'gemma' | 'metaspace';
  /** Write merges as "a b" strings instead of [a, b] pairs. */
  readonly stringMerges?: boolean;
  /** How many merges to learn. Default 250. */
  readonly merges?: number;
  /** Text to learn characters and merges from. Default {@link CORPUS}. */
  readonly corpus?: string;
  /** Metaspace's split (style 'metaspace'): cut the text at each "▁". Default false. */
  readonly split?: boolean;
  /** Metaspace's prepend_scheme (style 'metaspace'). Default 'first'. */
  readonly prependScheme?: 'first' | 'always' | 'never';
}

/** A SentencePiece-style BPE tokenizer.json with byte fallback. */
export function sentencePieceTokenizer(o: SPOptions): Record<string, unknown> {
  const gemma = o.style === 'gemma';
  const specials = gemma ? ['<pad>', '<eos>', '<bos>', '<unk>'] : ['<unk>', '<s>', '</s>'];
  const extra = gemma ? ['<start_of_turn>', '<end_of_turn>'] : [];
  const vocab: Record<string, number> = {};
  const add = (t: string) => {
    if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  };
  specials.forEach(add);
  extra.forEach(add);
  byteTokens().forEach(add);
  // Characters seen at least 3 times get their own token; rarer ones go through byte fallback.
  const corpus = o.corpus ?? CORPUS;
  const normalized = (gemma ? corpus : '▁' + corpus).replaceAll(' ', '▁');
  const charCount = new Map<string, number>();
  for (const c of normalized) charCount.set(c, (charCount.get(c) ?? 0) + 1);
  [...charCount].filter(([, n]) => n >= 3).map(([c]) => c).sort().forEach(add);
  const words = new Map<string, number>();
  for (const w of normalized.split(/(?=▁)/u)) {
    const kept = Array.from(w).filter((c) => c in vocab).join('');
    if (kept) words.set(kept, (words.get(kept) ?? 0) + 1);
  }
  const merges = learnMerges(words, o.merges ?? 250);
  for (const [a, b] of merges) add(a + b);
  const unk = gemma ? '<unk>' : '<unk>';
  const bos = gemma ? '<bos>' : '<s>';
  const added = [...specials, ...extra].map((content) => ({
    id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const metaspace = o.style === 'metaspace';
  const normalizer = metaspace
    ? null
    : gemma
      ? { type: 'Replace', pattern: { String: ' ' }, content: '▁' }
      : { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] };
  const decoderSteps: unknown[] = metaspace
    ? [{ type: 'Metaspace', replacement: '▁', prepend_scheme: o.prependScheme ?? 'first', split: o.split ?? false }, { type: 'ByteFallback' }, { type: 'Fuse' }]
    : [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }];
  if (o.style === 'llama2') decoderSteps.push({ type: 'Strip', content: ' ', start: 1, stop: 0 });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer,
    pre_tokenizer: metaspace ? { type: 'Metaspace', replacement: '▁', prepend_scheme: o.prependScheme ?? 'first', split: o.split ?? false } : null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bos]: { id: bos, ids: [vocab[bos]], tokens: [bos] } },
    },
    decoder: { type: 'Sequence', decoders: decoderSteps },
    model: {
      type: 'BPE', dropout: null, unk_token: unk, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab,
      merges: o.stringMerges ? merges.map(([a, b]) => `${a} ${b}`) : merges,
    },
  };
}

/** Llama-3's pre-tokenization regex (Oniguruma syntax, with a case-insensitive group). */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * A Llama-3-style tokenizer.json: Split(regex) then ByteLevel without its own regex, ignore_merges,
 * a bos template after ByteLevel, special header tokens, and a non-special added token with
 * lstrip/rstrip.
 */
export function llama3Tokenizer(): Record<string, unknown> {
  const base = byteLevelTokenizer();
  const model = base.model as { vocab: Record<string, number> };
  const vocab = { ...model.vocab };
  delete vocab['<|endoftext|>'];
  let next = Object.keys(vocab).length;
  const tok = (content: string, special: boolean, strip = false) => ({
    id: next++, content, single_word: false, lstrip: strip, rstrip: strip, normalized: !special, special,
  });
  const added = [tok('<|begin_of_text|>', true), tok('<|end_of_text|>', true), tok('<|eot_id|>', true), tok('<|start_header_id|>', true), tok('<|end_header_id|>', true), tok('[MASK]', false, true)];
  for (const a of added) vocab[a.content] = a.id;
  return {
    ...base,
    added_tokens: added,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [],
          special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [added[0].id], tokens: ['<|begin_of_text|>'] } },
        },
      ],
    },
    model: { ...(base.model as object), vocab, ignore_merges: true },
  };
}

/** A GPT-2-style byte-level tokenizer.json (ByteLevel pre-tokenizer and decoder) from a trained tinygpt BPE. */
export function byteLevelTokenizer(opts: { readonly stringMerges?: boolean; readonly addPrefixSpace?: boolean } = {}): Record<string, unknown> {
  const bpe = BPETokenizer.train(CORPUS, 500, { specialTokens: ['<|endoftext|>'], minFrequency: 1 });
  const json = bpe.toJSON();
  const alphabet = gpt2ByteToChar();
  const strings: string[] = alphabet.slice();
  const vocab: Record<string, number> = {};
  alphabet.forEach((c, b) => (vocab[c] = b));
  const merges = json.merges.map(([a, b], r) => {
    strings[256 + r] = strings[a] + strings[b];
    vocab[strings[256 + r]] = 256 + r;
    return [strings[a], strings[b]] as [string, string];
  });
  const eot = 256 + merges.length;
  vocab['<|endoftext|>'] = eot;
  return {
    version: '1.0',
    added_tokens: [{ id: eot, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: opts.addPrefixSpace ?? false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, vocab,
      merges: opts.stringMerges ? merges.map(([a, b]) => `${a} ${b}`) : merges,
    },
  };
}

/** Texts that exercise the corners: emoji, CJK, whitespace runs, tabs/newlines, rare bytes, special tokens. */
export const SAMPLES: readonly string[] = [
  'The quarterly results were strong.',
  ' leading space and  two  spaces',
  'Tabs\tand\nnewlines\n\n  indented\r\nCRLF',
  '   ',
  'emoji 🙂👍🏽 and flags 🇫🇷',
  '日本語のテキストと中文',
  'Ünïcödé ßtraße café naïve',
  'math ∑ x² ≤ 10⁶ · π',
  "it's they're we'll I'M",
  'numbers 1234567 3.14159 -42',
  'zero\u0000byte and bell\u0007',
  'def f(x):\n\treturn x  # comment\n',
  'a',
  '',
];
