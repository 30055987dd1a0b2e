// tfjs's typings name the global types of @types/long and @types/emscripten (dependencies of
// tfjs-core and tfjs-backend-wasm) without referencing them; these lines keep a consumer's
// `tsc --strict` green even when its tsconfig lists "types" explicitly.
/// <reference types="long" preserve="true" />
/// <reference types="emscripten" preserve="true" />
// 'tinygpt/node': file and process code for Node (reads and writes folders, downloads, writes
// progress to a terminal). Everything else comes from 'tinygpt'.
import './grad/register.js';

// a training run on a text: checkpoints, metrics and progress
export { trainOnText, CHECKPOINT_SUBDIR, type TrainSessionOptions, type TrainSessionResult } from './train/session.js';
export { MetricsWriter } from './train/metrics.js';
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

// folders: checkpoints, safetensors files, pretrained model folders
export {
  saveCheckpoint,
  loadCheckpoint,
  type CheckpointInput,
  type LoadedCheckpoint,
  type CheckpointOptimizerState,
} from './io/checkpoint.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export { writeFileAtomic } from './io/atomicWrite.js';
export { loadPretrained, savePretrained, loadWeightsInto, type PretrainedFormat } from './pretrained/pretrained.js';
export { loadTrained, type TrainedModel } from './pretrained/loadTrained.js';

// corpora: text files and the Tiny Shakespeare download
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

// figures written to files
export { writeLossPlot } from './viz/writeLossPlot.js';

// Hugging Face model folders: tokenizer.json + tokenizer_config.json, stop ids, the text-generation pipeline, chat
export { loadTokenizer } from './pretrained/loadTokenizer.js';
export { readStopTokenIds, END_OF_TURN_TOKENS } from './pretrained/stopTokens.js';
export {
  pipeline,
  type PipelineTask,
  type PipelineOptions,
  type FolderTextGenerationPipeline,
  type ChatGenerationOutput,
} from './pretrained/pipeline.js';
// Inference on stored-dtype weights (bfloat16 kept) on the DotEngine: pipeline's dtype 'auto'.
export { InferenceModel } from './pretrained/inferenceModel.js';
export { loadDecoder, openHostModel, type HostModel } from './pretrained/hostModel.js';
export { ChatSession, type ChatTurnOptions } from './pretrained/chatSession.js';

// data-parallel training (TrainOptions.workers): replica threads that sum gradients and apply AdamW in shared memory
export { DataParallel, type MicroBatch, type PoolOptions, type PoolStep } from './train/parallel/pool.js';
export { shardSeed, shareOf, stepUnits, type WorkUnit } from './train/parallel/units.js';
export { resolveWorkers, startDataParallel, type ParallelRun } from './train/parallel/start.js';
export type { ReplicaThread, SpawnReplica, ThreadEvent } from './train/parallel/thread.js';

// Hugging Face Llama / Gemma 3 folders (GPT.fromPretrained, savePretrained format 'hf') and header-first checks
export {
  fromHFLlamaConfig,
  toHFLlamaConfig,
  isHFLlamaConfig,
  hfFamilyOf,
  type HFFamily,
  type HFModelConfig,
} from './pretrained/hfLlamaConfig.js';
export { planLoad, checkHeaders, fillModel, type LoadPlan, type HeaderEntry } from './pretrained/loadPlan.js';
export { openSafetensors, type LazySafetensors } from './io/safetensorsLazy.js';

// training runs on disk: manifests and recovery of interrupted saves, the run-folder lock, resume plans, Ctrl-C
export {
  verifyCheckpointFolder,
  MANIFEST_FILE,
  type CheckpointManifest,
  type ManifestEntry,
  type ManifestCheck,
} from './io/checkpointManifest.js';
export { recoverCheckpoint, checkpointLeftovers, type CheckpointRecovery } from './io/checkpointRecover.js';
export { RunLock, openRunFolder, LOCK_FILE, METRICS_FILE, type RunFolder, type ExistingRun } from './train/runFolder.js';
export { planResume, checkSameShape, type ResumePlan } from './train/resumePlan.js';
export { installStopSignals, INTERRUPTED_EXIT_CODE, type StopSignals } from './train/signals.js';
export { truncateTornTail } from './train/metrics.js';
export type { SessionInitialModel } from './train/session.js';
export {
  readTextChunks,
  encodeTextFile,
  encodeText,
  charTokenizerOfFile,
  readTextPrefix,
  CORPUS_CHUNK_BYTES,
  type ChunkEncoder,
} from './data/corpus.js';
export { loadInitialModel, type InitialModel } from './pretrained/initFrom.js';

// LoRA adapters as PEFT files (adapter_model.safetensors + adapter_config.json)
export {
  saveLoRA,
  loadLoRA,
  loraFileContents,
  ADAPTER_WEIGHTS_FILE,
  ADAPTER_CONFIG_FILE,
  type PeftLoraConfig,
  type LoRAFileContents,
} from './train/loraFiles.js';
