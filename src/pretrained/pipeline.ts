/**
 * Hugging Face's `pipeline("text-generation", dir)` for a model folder (Node only): the model
 * through GPT.fromPretrained, the tokenizer through loadTokenizer, the stop ids from the
 * folder (eos and end-of-turn), and generation through src/sample's textGeneration. A string
 * prompt is encoded with the tokenizer's special tokens (bos); a list of messages is rendered
 * with the folder's chat template and a generation prompt (the template writes bos itself).
 * Greedy unless doSample; the returned text leaves out special tokens, as Hugging Face's does.
 */
import { GPT } from '../model/gpt.js';
import type { LanguageModel } from '../model/types.js';
import { InferenceModel } from './inferenceModel.js';
import { textGeneration, type TextGenerationOptions, type TextGenerationOutput } from '../sample/pipeline.js';
import type { StopCondition } from '../sample/stopping.js';
import type { ChatMessage } from '../tokenizer/chat.js';
import type { HFTokenizer } from '../tokenizer/hf/tokenizer.js';
import { loadTokenizer } from './loadTokenizer.js';
import { readStopTokenIds } from './stopTokens.js';

/** The result for a conversation with returnFullText true: the messages plus the new reply. */
export interface ChatGenerationOutput {
  /** The input messages followed by { role: 'assistant', content: reply }. */
  readonly generatedText: ChatMessage[];
}

/** A text-generation pipeline bound to one model folder. */
export interface FolderTextGenerationPipeline {
  /** Continues a prompt. */
  (prompt: string, options: TextGenerationOptions): Promise<TextGenerationOutput[]>;
  /** Replies to a conversation: only the reply with returnFullText false. */
  (
    messages: readonly ChatMessage[],
    options: TextGenerationOptions & { readonly returnFullText: false },
  ): Promise<TextGenerationOutput[]>;
  /** Replies to a conversation: the conversation with the reply appended (returnFullText true, the default). */
  (messages: readonly ChatMessage[], options: TextGenerationOptions): Promise<(TextGenerationOutput | ChatGenerationOutput)[]>;
  /** The loaded model (owned by the pipeline: call dispose()): a GPT with dtype 'fp32', an InferenceModel with 'auto'. */
  readonly model: LanguageModel;
  /** The folder's tokenizer. */
  readonly tokenizer: HFTokenizer;
  /** Ids at which generation stops (eos, end of turn). */
  readonly stopTokenIds: readonly number[];
  /** Renders messages as the model is prompted with them (chat template + generation prompt). */
  renderChat(messages: readonly ChatMessage[]): string;
  /** Frees the model's weights. */
  dispose(): void;
}

/** Tasks {@link pipeline} knows. */
export type PipelineTask = 'text-generation';

function stopList(folder: readonly number[], user: TextGenerationOptions['stop']): StopCondition[] {
  const extra: readonly StopCondition[] = user === undefined ? [] : Array.isArray(user) ? user : [user as StopCondition];
  return [...folder, ...extra];
}

/** How {@link pipeline} loads the weights. */
export interface PipelineOptions {
  /**
   * 'fp32' (default): a GPT of float32 tfjs variables, which can also be trained. 'auto': the
   * stored dtype (bfloat16 stays bfloat16, as Hugging Face's torch_dtype="auto") on the DotEngine,
   * for inference only: half the memory of a bfloat16 checkpoint and faster decoding; what
   * Gemma 3 1B needs on wasm.
   */
  readonly dtype?: 'fp32' | 'auto';
}

/** Loads `dir` (config.json, weights, tokenizer.json, ...) into a callable text-generation pipeline. */
export async function pipeline(
  task: PipelineTask,
  dir: string,
  options: PipelineOptions = {},
): Promise<FolderTextGenerationPipeline> {
  if (task !== 'text-generation')
    throw new Error(`pipeline: unknown task ${JSON.stringify(task)}; tinygpt has "text-generation".`);
  if (typeof dir !== 'string' || dir.length === 0)
    throw new Error('pipeline: pass the model folder, e.g. pipeline("text-generation", "path/to/gemma-3-1b-it").');
  const dtype = options.dtype ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'auto')
    throw new Error(`pipeline: dtype must be "fp32" or "auto", got ${JSON.stringify(dtype)}.`);
  const tokenizer = await loadTokenizer(dir);
  const stopTokenIds = await readStopTokenIds(dir, tokenizer);
  const model: LanguageModel = dtype === 'auto' ? await InferenceModel.load(dir) : await GPT.fromPretrained(dir);
  const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });
  const plain = textGeneration(model, { encode: (t) => tokenizer.encode(t), decode });
  const chat = textGeneration(model, { encode: (t) => tokenizer.encode(t, { addSpecialTokens: false }), decode });
  const renderChat = (messages: readonly ChatMessage[]) => tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });

  const run = async (
    input: string | readonly ChatMessage[],
    options: TextGenerationOptions,
  ): Promise<(TextGenerationOutput | ChatGenerationOutput)[]> => {
    if (options == null || typeof options !== 'object')
      throw new Error('pipeline: options are required, e.g. { maxNewTokens: 50 }.');
    const stop = stopList(stopTokenIds, options.stop);
    if (typeof input === 'string') return plain(input, { ...options, stop });
    if (!Array.isArray(input)) throw new Error('pipeline: pass a prompt string or an array of { role, content } messages.');
    const outs = await chat(renderChat(input), { ...options, stop, returnFullText: false });
    if (options.returnFullText === false) return outs;
    return outs.map((out) => ({
      generatedText: [...input.map((m) => ({ ...m })), { role: 'assistant' as const, content: out.generatedText }],
    }));
  };
  return Object.assign(run as FolderTextGenerationPipeline, {
    model,
    tokenizer,
    stopTokenIds,
    renderChat,
    dispose: () => model.dispose(),
  });
}
