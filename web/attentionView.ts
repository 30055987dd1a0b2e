/**
 * The page's attention heatmap: one chosen layer and head (a full grid of every head is
 * hundreds of thousands of DOM nodes for a long prompt and slowed streaming eightfold). The
 * weights are computed once per prompt and kept; the SVG is drawn only when asked (after
 * generation, or when the layer, head or scale changes), never from the token loop.
 */
import type { AttentionMaps } from '../src/viz/heatmap.js';
import { attentionHeatmapSvg } from '../src/viz/heatmap.js';

/** The elements the view draws into and reads its choices from. */
export interface AttentionElements {
  /** Where the SVG goes. */
  readonly target: HTMLElement;
  /** The chosen layer. */
  readonly layer: HTMLSelectElement;
  /** The chosen head. */
  readonly head: HTMLSelectElement;
  /** Whether the first token is left out of the colour scale. */
  readonly excludeFirst: HTMLInputElement;
}

/** Fills a <select> with 0..n-1, keeping the current choice when it still exists. */
function fillSelect(select: HTMLSelectElement, n: number): void {
  const keep = Number(select.value);
  select.replaceChildren(...Array.from({ length: n }, (_, i) => new Option(String(i), String(i))));
  select.value = String(Number.isInteger(keep) && keep < n ? keep : 0);
}

/** Holds one prompt's attention weights and draws the chosen panel. */
export class AttentionView {
  private maps: AttentionMaps | undefined;
  private tokens: readonly string[] = [];
  /** How many times an SVG was drawn; the page exposes it for tests as data-attention-renders. */
  renders = 0;

  constructor(private readonly ui: AttentionElements) {
    for (const input of [ui.layer, ui.head, ui.excludeFirst]) input.addEventListener('change', () => this.render());
  }

  /** A model was loaded: offer its layers and heads, and forget old weights. */
  setShape(nLayer: number, nHead: number): void {
    fillSelect(this.ui.layer, nLayer);
    fillSelect(this.ui.head, nHead);
    this.clear();
  }

  /** Drops the weights and the drawing. */
  clear(): void {
    this.maps = undefined;
    this.ui.target.textContent = '';
  }

  /** Keeps the weights of a new prompt without drawing them yet. */
  set(maps: AttentionMaps, tokens: readonly string[]): void {
    this.maps = maps;
    this.tokens = tokens;
  }

  /** Draws the chosen layer and head (nothing before set). */
  render(): void {
    if (this.maps === undefined) return;
    const l = Number(this.ui.layer.value);
    const h = Number(this.ui.head.value);
    const map = this.maps[l]?.[h];
    if (map === undefined) return;
    this.ui.target.innerHTML = attentionHeatmapSvg([[map]], this.tokens, {
      tooltips: true,
      idPrefix: 'prompt-attn',
      title: `Attention over the prompt: layer ${l}, head ${h}`,
      layerIndices: [l],
      headIndices: [h],
      excludeFirst: this.ui.excludeFirst.checked,
    });
    this.renders += 1;
    document.body.dataset.attentionRenders = String(this.renders);
  }
}
