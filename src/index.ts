// tfjs's typings name the global types of @types/long and @types/emscripten (dependencies of
// tfjs-core and tfjs-backend-wasm) without referencing them; these lines keep a consumer's
// `tsc --strict` green even when its tsconfig lists "types" explicitly.
/// <reference types="long" preserve="true" />
/// <reference types="emscripten" preserve="true" />
// tinygpt's main entry, browser-safe (no node: imports; test/entries.test.ts checks the graph):
// the names a user needs to build, train and sample from a model. File and process code is in
// 'tinygpt/node', the SVG figures in 'tinygpt/viz', the building blocks in 'tinygpt/ops'.

// the tfjs namespace tinygpt runs on, so users need not install or import tfjs-core themselves
export * as tf from '@tensorflow/tfjs-core';
export { setWasmPaths } from './wasmPaths.js';
export { setBackend, type BackendName } from './backend.js';
export { createRng, type Rng } from './util/rng.js';

// config → model
export { resolveConfig, SHAKESPEARE_CHAR, type GPTConfig, type ResolvedGPTConfig } from './config/config.js';
export { PRESETS, presetConfig, countParams, type PresetName } from './config/presets.js';
export { GPT } from './model/gpt.js';
export type { LanguageModel, ForwardOptions } from './model/types.js';

// tokenizers and data
export { CharTokenizer } from './tokenizer/char.js';
export { BPETokenizer } from './tokenizer/bpe.js';
export { tokenizerFromJSON, type Tokenizer } from './tokenizer/load.js';
export { HFTokenizer, type HFTokenizerJSON } from './tokenizer/hf/tokenizer.js';
export { applyChatTemplate, type ChatMessage } from './tokenizer/chat.js';
export { TextDataset, type Batch } from './data/dataset.js';

// training
export { Trainer, type TrainerSetup } from './train/trainer.js';
export { AdamW } from './train/adamw.js';
export type { TrainOptions } from './train/options.js';
export type { TrainRecord } from './train/records.js';

// after pre-training: supervised fine-tuning, preference alignment, low-rank adapters
export { SFTTrainer, type SFTConfig } from './train/sft.js';
export { DPOTrainer, type DPOConfig } from './train/dpo.js';
export { applyLoRA, mergeLoRA, type LoRAOptions } from './train/lora.js';

// generation
export { generate, generateAll, type GenerateOptions } from './sample/generate.js';
export { streamText } from './sample/streamer.js';
export { textGeneration, type TextGenerationPipeline, type TextGenerationOutput } from './sample/pipeline.js';
export { Decoder } from './decode/decoder.js';

// weights as bytes (files: 'tinygpt/node')
export { parseSafetensors } from './io/safetensorsParse.js';
export { serializeSafetensors } from './io/safetensorsSerialize.js';
export { SafetensorsError } from './io/safetensorsTypes.js';
export { fromHFConfig, isHFGPT2Config } from './pretrained/hfGpt2Config.js';
export { assignWeights, normalizeWeightNames } from './io/weights.js';
