// tinygpt's public surface: everything a user imports comes from here.
export { setBackend, type BackendName } from './backend.js';
export { createRng, type Rng, type RngState } from './util/rng.js';

// attention → block → model
export { scaledDotProductAttention, type SdpaOptions, type SdpaResult } from './attention/scaledDotProduct.js';
export { causalMask } from './attention/causalMask.js';
export { Attention, type AttentionCall } from './attention/attention.js';
export { LayerNorm } from './norm/layerNorm.js';
export { FeedForward } from './block/feedForward.js';
export { Block } from './block/block.js';
export { Linear, type LinearAdapter } from './layers/linear.js';
export { planModel, planLayer, isGpt2Architecture, type LayerPlan, type ModelPlan } from './config/plan.js';
export { canonicalTensors, weightTable, layerPath, tensorName, LAYER_SLOTS, MODEL_SLOTS, type WeightFormat, type StoredTensor, type CanonicalTensor, type LayerSlot } from './config/names.js';
export {
  resolveConfig,
  SHAKESPEARE_CHAR,
  type GPTConfig,
  type ResolvedGPTConfig,
  type Activation,
} from './config/config.js';
export { GPT, type ForwardWithAttention } from './model/gpt.js';
export type { LanguageModel, ForwardOptions, Stepper, StepperOptions } from './model/types.js';

// ops with hand-written gradients (their plain autograd references live in test/reference)
export { gelu, geluTanh, silu } from './ops/activations.js';
export { layerNorm } from './ops/layerNorm.js';
export { crossEntropy } from './ops/crossEntropy.js';
export { linear, matMul2d, batchMatMul } from './ops/matmul.js';
export { embedding } from './ops/embedding.js';

// tokenizers and data
export { CharTokenizer, type CharTokenizerJSON } from './tokenizer/char.js';
export { loadText } from './data/text.js';
export {
  SHAKESPEARE_URL,
  SHAKESPEARE_SHA256,
  ensureShakespeare,
  sha256Hex,
  type EnsureShakespeareOptions,
  type FetchLike,
  type FetchResponseLike,
} from './data/shakespeare.js';
export { writeFileAtomic } from './io/atomicWrite.js';
export { TextDataset, type Split, type Batch, type TextDatasetOptions } from './data/dataset.js';

// sampling and generation: processors → sampler → stopping → streamer
export { applyTemperature, topKFilter, topPFilter, applyRepetitionPenalty, softmaxOf } from './sample/processors.js';
export { sampleNext, argmax, sampleCategorical, type SampleOptions, type LogitsLike } from './sample/sampler.js';
export { StopCriteria, findStopString, type StopCondition, type StopOption, type StopStep } from './sample/stopping.js';
export { generate, generateAll, nextLogits, type GenerateOptions } from './sample/generate.js';
export { streamText } from './sample/streamer.js';
export {
  textGeneration,
  type TextCodec,
  type TextGenerationOptions,
  type TextGenerationOutput,
  type TextGenerationPipeline,
} from './sample/pipeline.js';

// io: safetensors and checkpoints
export {
  parseSafetensors,
  serializeSafetensors,
  readSafetensors,
  writeSafetensors,
  halfToFloat,
  bfloat16ToFloat,
  SafetensorsError,
  type ParsedSafetensors,
  type SafetensorsDtype,
  type SafetensorsTensor,
  type TensorData,
  type TensorMapInput,
} from './io/safetensors.js';
export { tensorsToRecord, recordToTensors } from './io/tensorRecord.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  type CheckpointInput,
  type LoadedCheckpoint,
  type CheckpointOptimizerState,
} from './io/checkpoint.js';

// training
export { AdamW, type AdamWOptions, type AdamWState } from './train/adamw.js';
export { getLr, type LrSchedule } from './train/schedule.js';
export { clipByGlobalNorm, type ClippedGradients } from './train/clip.js';
export { accumulateGradients, type AccumulatedGradients } from './train/accumulate.js';
export { estimateLoss, type BatchSource, type SplitLosses } from './train/evaluate.js';
export {
  resolveTrainOptions,
  DEFAULT_TRAIN_OPTIONS,
  type TrainOptions,
  type ResolvedTrainOptions,
  type TrainModelLimits,
} from './train/options.js';
export type { StepRecord, EvalRecord, TrainRecord } from './train/records.js';
export { Trainer, type TrainerState } from './train/trainer.js';
export {
  ProgressReporter,
  formatDuration,
  formatRate,
  formatStep,
  formatEval,
  progressBar,
  estimateRemainingMs,
  type ProgressOptions,
  type ProgressStream,
} from './train/progress.js';
export { MetricsWriter } from './train/metrics.js';

// byte-level BPE
export { BPETokenizer, type BPETrainOptions } from './tokenizer/bpe.js';
export { type BPETokenizerJSON } from './tokenizer/bpe-json.js';
export { GPT2_PATTERN } from './tokenizer/bpe-pretokenize.js';

// presets and pretrained weights
export { PRESETS, presetConfig, countParams, type PresetName } from './config/presets.js';
export { fromHFConfig, toHFConfig, isHFGPT2Config, type HFGPT2Config } from './pretrained/hfGpt2Config.js';
export { loadPretrained, savePretrained, loadWeightsInto, type PretrainedFormat } from './pretrained/pretrained.js';

// a training run on a text (Node: writes checkpoints and metrics)
export { trainOnText, CHECKPOINT_SUBDIR, type TrainSessionOptions, type TrainSessionResult } from './train/session.js';
export { loadTrained, type TrainedModel } from './pretrained/loadTrained.js';
export { tokenizerFromJSON, type Tokenizer } from './tokenizer/load.js';
export {
  applyChatTemplate,
  DEFAULT_CHAT_TEMPLATE,
  CHAT_SPECIAL_TOKENS,
  type ChatMessage,
  type ChatTemplateOptions,
} from './tokenizer/chat.js';

// looking inside: attention heatmaps and loss curves as SVG
export {
  attentionHeatmapSvg,
  tokenLabel,
  MAX_HEATMAP_CELLS,
  type AttentionMaps,
  type HeatmapOptions,
} from './viz/heatmap.js';
export { attentionColor, ATTENTION_STOPS } from './viz/colorScale.js';
export { computeAttention, attentionArrays, type AttentionResult } from './viz/attentionData.js';
export { lossPlotSvg, type LossPlotOptions } from './viz/lossPlot.js';
export { parseMetricsLog, type MetricsLog, type StepPoint, type EvalPoint } from './viz/metricsLog.js';
export { writeLossPlot } from './viz/writeLossPlot.js';

// modern decoder options (Llama / Gemma 3): RMSNorm, RoPE, GQA, GeGLU, QK-norm, sliding windows
export { isGated, type NormKind, type PositionKind, type GPT2Shape } from './config/config.js';
export { groupedAttention, type GroupedAttentionOptions, type GroupedAttentionResult } from './attention/groupedAttention.js';
export { slidingWindowMask } from './attention/slidingWindowMask.js';
export { RotaryEmbedding } from './attention/rope.js';
export { KVCache, type LayerKV } from './attention/kvCache.js';
export { rmsNorm } from './ops/rmsNorm.js';
export { RMSNorm } from './norm/rmsNorm.js';
export { makeNorm, type Norm } from './norm/norms.js';
export { contextStepper, windowStart, defaultContextShift, type ContextStepper } from './sample/context.js';

// tensor-free incremental decoding (generate's default for GPT models on wasm and cpu)
export { Decoder, type DecoderSource } from './decode/decoder.js';
export { JsEngine, type MatMulEngine, type MatrixRef, type VectorRef } from './ops/engine.js';
export { XnnpackEngine } from './ops/wasm/xnnpackEngine.js';

// Post-training (issue 15): SFT with loss masking, DPO, their data readers and the earnings-call dataset.
export { maskedCrossEntropy, maskedNllSum, sequenceLogProbs, tokenLogProbs } from './ops/maskedCrossEntropy.js';
export { parseJsonl, type JsonlLine } from './data/jsonl.js';
export {
  tokenizeSFTData,
  parseSFTExample,
  renderSegments,
  tokenizeSegments,
  truncateExample,
  type SFTExample,
  type Segment,
  type TokenizedExample,
  type SFTData,
  type SFTDataOptions,
} from './train/sftData.js';
export { tokenizePreferenceData, tokenizePreference, parsePreference, type PreferencePair, type PreferenceData } from './train/dpoData.js';
export { padBatch, disposeBatch, EpochSampler, type PaddedBatch } from './train/padBatch.js';
export { PostTrainer, resolvePostTrainOptions, POST_TRAIN_DEFAULTS, type PostTrainOptions, type ResolvedPostTrainOptions } from './train/postTrain.js';
export { SFTTrainer, sftLoss, sftLossSum, type SFTConfig, type SFTEvalRecord } from './train/sft.js';
export {
  DPOTrainer,
  dpoLoss,
  dpoMetrics,
  pairLogProbs,
  exampleLogProbs,
  type DPOConfig,
  type DPOMetrics,
  type DPOEvalRecord,
  type PairLogProbs,
} from './train/dpo.js';
export {
  generateEarnings,
  earningsItem,
  earningsPrompt,
  formatAnswer,
  parseAnswer,
  rejectedAnswer,
  ANSWER_PATTERN,
  INSTRUCTION,
  type EarningsData,
  type EarningsItem,
  type EarningsSizes,
  type SentimentLabel,
  type SFTLine,
  type DPOLine,
} from './data/earnings.js';
export { applyLoRA, mergeLoRA, removeLoRA, loraWeights, loraAdapters, loraState, type LoRAOptions, type LoRAState } from './train/lora.js';
export { LoRAAdapter, type LoRASite } from './train/loraAdapter.js';
export { resolveTargets, defaultTargets, LORA_TARGETS } from './train/loraTargets.js';
export { saveLoRA, loadLoRA, ADAPTER_WEIGHTS_FILE, ADAPTER_CONFIG_FILE, type PeftLoraConfig } from './train/loraFiles.js';

// generation options, linear-time streaming, figure 8.2 and text evaluation (issues 17 and 18)
export { IncrementalDecoder } from './sample/streamer.js';
export { TextStopper, checkStopStrings, unescapeStop, type TextStopStep } from './sample/stopText.js';
export { resolveSampling, type SamplingFields, type ResolvedSampling } from './sample/mode.js';
export { checkOptionNames, suggestName, editDistance } from './sample/optionNames.js';
export { GENERATE_OPTION_NAMES } from './sample/generate.js';
export { TEXT_GENERATION_OPTION_NAMES } from './sample/pipeline.js';
export { SAMPLE_DEFAULTS } from './sample/defaults.js';
export { attentionStripSvg, findQuery, type QueryStrip, type StripOptions } from './viz/queryStrip.js';
export { scaleMax } from './viz/heatmap.js';
export { EXCLUDED_COLOR } from './viz/colorScale.js';
export { type AttentionSource } from './viz/attentionData.js';
export { evaluateText, type EvaluateTextOptions, type TextEvaluation } from './train/perplexity.js';

// Hugging Face model folders (issue 14): tokenizer.json tokenizers, chat templates, text-generation pipeline
export { HFTokenizer, isHFTokenizerJSON, type EncodeOptions, type DecodeOptions, type HFTokenizerJSON } from './tokenizer/hf/tokenizer.js';
export { type AddedToken } from './tokenizer/hf/addedTokens.js';
export { loadTokenizer } from './pretrained/loadTokenizer.js';
export { readStopTokenIds, END_OF_TURN_TOKENS } from './pretrained/stopTokens.js';
export {
  pipeline,
  type PipelineTask,
  type FolderTextGenerationPipeline,
  type ChatGenerationOutput,
} from './pretrained/pipeline.js';
export { ChatSession, type ChatTurnOptions } from './pretrained/chatSession.js';
export { GenerationSession, type SessionOptions, type TurnOptions } from './sample/session.js';
