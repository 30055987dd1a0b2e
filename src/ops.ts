// tfjs's typings name the global types of @types/long and @types/emscripten (dependencies of
// tfjs-core and tfjs-backend-wasm) without referencing them; these lines keep a consumer's
// `tsc --strict` green even when its tsconfig lists "types" explicitly.
/// <reference types="long" preserve="true" />
/// <reference types="emscripten" preserve="true" />
// 'tinygpt/ops': the building blocks the model is made of, for readers and for new models
// (browser-safe): tensor ops with hand-written gradients, attention, norms and blocks, the
// logits processors behind generate, and the pieces of a training step.
import './grad/register.js';
export { registerGradients, TINYGPT_GRADIENTS } from './grad/register.js';

// ops with hand-written gradients (their plain autograd references live in test/reference)
export { gelu, geluTanh, silu } from './ops/activations.js';
export { layerNorm } from './ops/layerNorm.js';
export { rmsNorm } from './ops/rmsNorm.js';
export { crossEntropy } from './ops/crossEntropy.js';
export { linear, matMul2d, batchMatMul } from './ops/matmul.js';
export { embedding } from './ops/embedding.js';

// attention → norm → block
export { scaledDotProductAttention, type SdpaOptions, type SdpaResult } from './attention/scaledDotProduct.js';
export { causalMask } from './attention/causalMask.js';
export { slidingWindowMask } from './attention/slidingWindowMask.js';
export { Attention, type AttentionCall } from './attention/attention.js';
export { groupedAttention, type GroupedAttentionOptions, type GroupedAttentionResult } from './attention/groupedAttention.js';
export { RotaryEmbedding } from './attention/rope.js';
export { KVCache, type LayerKV } from './attention/kvCache.js';
export { LayerNorm } from './norm/layerNorm.js';
export { RMSNorm } from './norm/rmsNorm.js';
export { makeNorm, type Norm } from './norm/norms.js';
export { FeedForward } from './block/feedForward.js';
export { Block } from './block/block.js';
export { Linear, type LinearAdapter } from './layers/linear.js';

// config details
export { type Activation, isGated, type NormKind, type PositionKind, type GPT2Shape } from './config/config.js';
export { planModel, planLayer, isGpt2Architecture, type LayerPlan, type ModelPlan } from './config/plan.js';
export {
  canonicalTensors,
  weightTable,
  layerPath,
  tensorName,
  LAYER_SLOTS,
  MODEL_SLOTS,
  type WeightFormat,
  type StoredTensor,
  type CanonicalTensor,
  type LayerSlot,
} from './config/names.js';
export { toHFConfig, type HFGPT2Config } from './pretrained/hfGpt2Config.js';
export type { ForwardWithAttention } from './model/gpt.js';
export type { RngState } from './util/rng.js';

// generation pieces: logits processors → sampler → stopping, the context window, the decoder's engines
export { applyTemperature, topKFilter, topPFilter, applyRepetitionPenalty, softmaxOf } from './sample/processors.js';
export { sampleNext, argmax, sampleCategorical, type SampleOptions, type LogitsLike } from './sample/sampler.js';
export { StopCriteria, findStopString, type StopCondition, type StopOption, type StopStep } from './sample/stopping.js';
export { nextLogits } from './sample/generate.js';
export type { TextCodec, TextGenerationOptions } from './sample/pipeline.js';
export { contextStepper, windowStart, defaultContextShift, type ContextStepper } from './sample/context.js';
export type { DecoderSource } from './decode/decoder.js';
export type { Stepper, StepperOptions } from './model/types.js';
export { JsEngine, type HostTensor, type MatMulEngine, type MatrixRef, type VectorRef, type WeightInput } from './ops/engine.js';
export { DotEngine } from './ops/dot/dotEngine.js';
export { XnnpackEngine } from './ops/wasm/xnnpackEngine.js';

// training pieces
export { getLr, type LrSchedule } from './train/schedule.js';
export { clipByGlobalNorm, globalNormScale, type ClippedGradients, type NormScale } from './train/clip.js';
export { accumulateGradients, type AccumulatedGradients } from './train/accumulate.js';
export { estimateLoss, type BatchSource, type SplitLosses } from './train/evaluate.js';
export {
  resolveTrainOptions,
  DEFAULT_TRAIN_OPTIONS,
  type ResolvedTrainOptions,
  type TrainModelLimits,
} from './train/options.js';
export type { StepRecord, EvalRecord } from './train/records.js';
export type { TrainerState } from './train/trainer.js';
export type { AdamWOptions, AdamWState } from './train/adamw.js';

// tokenizer and weight details
export type { CharTokenizerJSON } from './tokenizer/char.js';
export type { BPETrainOptions } from './tokenizer/bpe.js';
export type { BPETokenizerJSON } from './tokenizer/bpe-json.js';
export { GPT2_PATTERN } from './tokenizer/bpe-pretokenize.js';
export { DEFAULT_CHAT_TEMPLATE, CHAT_SPECIAL_TOKENS, type ChatTemplateOptions } from './tokenizer/chat.js';
export type { Split, TextDatasetOptions } from './data/dataset.js';
export { halfToFloat, bfloat16ToFloat } from './io/halfFloat.js';
export type {
  ParsedSafetensors,
  SafetensorsDtype,
  SafetensorsTensor,
  TensorData,
  TensorMapInput,
} from './io/safetensorsTypes.js';
export { tensorsToRecord, recordToTensors } from './io/tensorRecord.js';

// generation options and linear-time streaming (issue 17)
export { IncrementalDecoder } from './sample/streamer.js';
export { TextStopper, checkStopStrings, unescapeStop, type TextStopStep } from './sample/stopText.js';
export { resolveSampling, type SamplingFields, type ResolvedSampling } from './sample/mode.js';
export { checkOptionNames, suggestName, editDistance } from './sample/optionNames.js';
export { GENERATE_OPTION_NAMES } from './sample/generate.js';
export { TEXT_GENERATION_OPTION_NAMES } from './sample/pipeline.js';
export { SAMPLE_DEFAULTS } from './sample/defaults.js';

// loss and perplexity of a model on a text
export { evaluateText, type EvaluateTextOptions, type TextEvaluation } from './train/perplexity.js';

// tokenizer.json details and a generation session kept across turns (what chat runs on)
export { isHFTokenizerJSON, type EncodeOptions, type DecodeOptions } from './tokenizer/hf/tokenizer.js';
export type { AddedToken } from './tokenizer/hf/addedTokens.js';
export { GenerationSession, type SessionOptions, type TurnOptions } from './sample/session.js';
export { parseSafetensorsHeader, type SafetensorsEntry, type SafetensorsHeader } from './io/safetensorsParse.js';
export type { RunOptions } from './train/trainer.js';

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
export {
  tokenizePreferenceData,
  tokenizePreference,
  parsePreference,
  type PreferencePair,
  type PreferenceData,
} from './train/dpoData.js';
export { padBatch, disposeBatch, EpochSampler, type PaddedBatch } from './train/padBatch.js';
export {
  PostTrainer,
  resolvePostTrainOptions,
  POST_TRAIN_DEFAULTS,
  type PostTrainOptions,
  type ResolvedPostTrainOptions,
} from './train/postTrain.js';
export { sftLoss, sftLossSum, type SFTConfig, type SFTEvalRecord } from './train/sft.js';
export {
  dpoLoss,
  dpoMetrics,
  pairLogProbs,
  exampleLogProbs,
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
export {
  removeLoRA,
  loraWeights,
  loraAdapters,
  loraState,
  attachLoRA,
  trainedWeights,
  type LoRAState,
  type LoRASpec,
} from './train/lora.js';
export { LoRAAdapter, type LoRASite } from './train/loraAdapter.js';
export { resolveTargets, defaultTargets, LORA_TARGETS } from './train/loraTargets.js';
