// tfjs's typings name the global types of @types/long and @types/emscripten (dependencies of
// tfjs-core and tfjs-backend-wasm) without referencing them; these lines keep a consumer's
// `tsc --strict` green even when its tsconfig lists "types" explicitly.
/// <reference types="long" preserve="true" />
/// <reference types="emscripten" preserve="true" />
// 'tinygpt/viz': looking inside a model, as SVG strings (browser-safe; writing them to files is
// writeLossPlot in 'tinygpt/node').
export {
  attentionHeatmapSvg,
  tokenLabel,
  MAX_HEATMAP_CELLS,
  type AttentionMaps,
  type HeatmapOptions,
} from './viz/heatmap.js';
export { attentionColor, ATTENTION_STOPS, EXCLUDED_COLOR } from './viz/colorScale.js';
export { computeAttention, attentionArrays, type AttentionResult, type AttentionSource } from './viz/attentionData.js';
export { lossPlotSvg, type LossPlotOptions } from './viz/lossPlot.js';
export { parseMetricsLog, type MetricsLog, type StepPoint, type EvalPoint } from './viz/metricsLog.js';
// figure 8.2: one query's attention over the earlier tokens, a strip per head
export { attentionStripSvg, findQuery, type QueryStrip, type StripOptions } from './viz/queryStrip.js';
export { scaleMax } from './viz/heatmap.js';
