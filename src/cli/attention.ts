import { setBackend, type BackendName } from '../backend.js';
import { loadTrained } from '../pretrained/loadTrained.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { computeAttention } from '../viz/attentionData.js';
import { attentionHeatmapSvg } from '../viz/heatmap.js';
import { attentionStripSvg, findQuery } from '../viz/queryStrip.js';
import { CliError, parseFlags, strFlag, type Values } from './args.js';

export const ATTENTION_USAGE = `usage: tinygpt attention --checkpoint DIR --text TEXT [--out FILE.svg] [--layer L] [--head H]
        [--query TOKEN_OR_INDEX] [--exclude-first] [--tooltips] [--backend auto|wasm|cpu|tensorflow]
  Draws the attention over TEXT as heatmaps, one per layer and head (rows: query token, columns:
  key token); --layer and --head pick one (default: all). --query draws one token's weights over
  the tokens before it instead, one labelled strip per head (the lecture's figure 8.2); it takes a
  token, a word (its last token) or an index (--query=-1: the last). --exclude-first leaves the first
  ("sink") token out of the colour scale. TEXT must fit the model's context. --out defaults to attention.svg.`;

const FLAGS = {
  checkpoint: { type: 'string' },
  text: { type: 'string' },
  out: { type: 'string' },
  layer: { type: 'string' },
  head: { type: 'string' },
  query: { type: 'string' },
  'exclude-first': { type: 'boolean' },
  tooltips: { type: 'boolean' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** --layer / --head: one index in [0, n), or all of them when absent. */
function pick(v: Values, name: 'layer' | 'head', n: number): number[] {
  const raw = strFlag(v, name);
  if (raw === undefined) return Array.from({ length: n }, (_, i) => i);
  const i = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(i) || i < 0 || i >= n) {
    throw new CliError(`--${name} must be an integer in 0..${n - 1} (the model has ${n} ${name}s), got "${raw}".`);
  }
  return [i];
}

/** `tinygpt attention`: one forward pass over --text, its attention weights drawn as SVG. */
export async function runAttention(argv: string[]): Promise<void> {
  const v = parseFlags(argv, FLAGS, ATTENTION_USAGE);
  if (v.help) {
    console.log(ATTENTION_USAGE);
    return;
  }
  const dir = strFlag(v, 'checkpoint');
  if (!dir) throw new CliError(`--checkpoint DIR is required.\n${ATTENTION_USAGE}`);
  const text = strFlag(v, 'text');
  if (text === undefined || text.length === 0) {
    throw new CliError('--text must be a non-empty string: the tokens whose attention is drawn, e.g. --text "To be, or not".');
  }
  const out = strFlag(v, 'out') ?? 'attention.svg';
  const excludeFirst = v['exclude-first'] === true;
  await setBackend((strFlag(v, 'backend') ?? 'auto') as BackendName);
  const { model, tokenizer } = await loadTrained(dir);
  try {
    const ids = tokenizer.encode(text);
    if (ids.length > model.config.blockSize) {
      throw new CliError(
        `--text is ${ids.length} tokens but the model's context is ${model.config.blockSize}: shorten it to at most ${model.config.blockSize} tokens.`,
      );
    }
    const layers = pick(v, 'layer', model.config.nLayer);
    const heads = pick(v, 'head', model.config.nHead);
    const tokens = ids.map((id) => tokenizer.decode([id]));
    const querySpec = strFlag(v, 'query');
    let query: number | undefined;
    if (querySpec !== undefined) {
      try {
        query = findQuery(querySpec, tokens);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
    }
    const { maps } = await computeAttention(model, ids);
    const title = `Attention: ${dir}`;
    let svg: string;
    let what: string;
    if (query !== undefined) {
      const q = query;
      const strips = layers.flatMap((l) => heads.map((h) => ({ layer: l, head: h, weights: maps[l][h][q] })));
      svg = attentionStripSvg(strips, tokens, q, { excludeFirst });
      what = `${strips.length} strip${strips.length > 1 ? 's' : ''} for query ${q} ${JSON.stringify(tokens[q])} over ${q + 1} tokens`;
    } else {
      const chosen = layers.map((l) => heads.map((h) => maps[l][h]));
      svg = attentionHeatmapSvg(chosen, tokens, { title, tooltips: v.tooltips === true, layerIndices: layers, headIndices: heads, excludeFirst });
      what = `${layers.length} layer${layers.length > 1 ? 's' : ''} × ${heads.length} head${heads.length > 1 ? 's' : ''}, ${ids.length} tokens`;
    }
    await writeFileAtomic(out, svg);
    console.log(`wrote ${out} (${what}), ${(svg.length / 1024).toFixed(0)} kB`);
  } finally {
    model.dispose();
  }
}
