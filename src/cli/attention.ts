import { setBackend, type BackendName } from '../backend.js';
import { loadTrained } from '../pretrained/loadTrained.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { computeAttention } from '../viz/attentionData.js';
import { attentionHeatmapSvg } from '../viz/heatmap.js';
import { CliError, parseFlags, strFlag } from './args.js';

export const ATTENTION_USAGE = `usage: tinygpt attention --checkpoint DIR --text TEXT [--out FILE.svg] [--tooltips] [--backend auto|wasm|cpu|tensorflow]
  Draws every layer's and head's attention over TEXT as a grid of heatmaps (rows: query
  token, columns: key token). TEXT must fit the model's context. --out defaults to attention.svg.`;

const FLAGS = {
  checkpoint: { type: 'string' },
  text: { type: 'string' },
  out: { type: 'string' },
  tooltips: { type: 'boolean' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

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
  await setBackend((strFlag(v, 'backend') ?? 'auto') as BackendName);
  const { model, tokenizer } = await loadTrained(dir);
  try {
    const ids = tokenizer.encode(text);
    if (ids.length > model.config.blockSize) {
      throw new CliError(
        `--text is ${ids.length} tokens but the model's context is ${model.config.blockSize}: shorten it to at most ${model.config.blockSize} tokens.`,
      );
    }
    const { maps } = await computeAttention(model, ids);
    const tokens = ids.map((id) => tokenizer.decode([id]));
    const svg = attentionHeatmapSvg(maps, tokens, { title: `Attention: ${dir}`, tooltips: v.tooltips === true });
    await writeFileAtomic(out, svg);
    console.log(`wrote ${out} (${model.config.nLayer} layers × ${model.config.nHead} heads, ${ids.length} tokens)`);
  } finally {
    model.dispose();
  }
}
