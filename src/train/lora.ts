import * as tf from '@tensorflow/tfjs-core';
import { GPT } from '../model/gpt.js';
import type { LanguageModel } from '../model/types.js';
import type { Linear } from '../layers/linear.js';
import { createRng } from '../util/rng.js';
import { LoRAAdapter, type LoRASite } from './loraAdapter.js';
import { defaultTargets, resolveTargets } from './loraTargets.js';

/** LoRA hyperparameters, PEFT's LoraConfig in camelCase. */
export interface LoRAOptions {
  /** r: the rank of B·A (PEFT's default 8). */
  readonly rank?: number;
  /** α: the update is scaled by α/r (PEFT's default 8). */
  readonly alpha?: number;
  /** Modules to adapt: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj or c_attn, c_proj, c_fc (default as PEFT: c_attn for GPT-2, q_proj and v_proj otherwise). */
  readonly targets?: readonly string[];
  /** Dropout on the adapter's input during training (PEFT's lora_dropout, default 0). */
  readonly dropout?: number;
  /** Seed of A's initialisation (default: the model config's seed). */
  readonly seed?: number;
}

/** One adapter to attach: where, with its own rank and α (PEFT's rank_pattern / alpha_pattern give modules their own). */
export interface LoRASpec {
  readonly site: LoRASite;
  readonly rank: number;
  readonly alpha: number;
}

/** The adapters applyLoRA attached and the settings they share. */
export interface LoRAState {
  /** The first adapter's rank (every adapter's, unless they were loaded with a rank_pattern). */
  readonly rank: number;
  /** The first adapter's α (likewise). */
  readonly alpha: number;
  readonly dropout: number;
  /** The target names as given (or defaulted). */
  readonly targets: readonly string[];
  readonly adapters: readonly LoRAAdapter[];
}

/** The LoRA adapters attached to a model's linear layers, with their layers. */
function attached(model: GPT): Array<[Linear, LoRAAdapter]> {
  const out: Array<[Linear, LoRAAdapter]> = [];
  for (const lin of model.linears().values()) for (const a of lin.adapters) if (a instanceof LoRAAdapter) out.push([lin, a]);
  return out;
}

/** The LoRA adapters on `model` (empty when none). */
export function loraAdapters(model: GPT): LoRAAdapter[] {
  return attached(model).map(([, a]) => a);
}

/** Sets every base weight's trainable flag (PEFT freezes the base model while adapters train). */
function setBaseTrainable(model: GPT, on: boolean): void {
  for (const v of model.namedWeights().values()) v.trainable = on;
}

function checkRankAlpha(rank: number, alpha: number): void {
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`LoRA rank must be an integer >= 1 (e.g. 8), got ${String(rank)}.`);
  if (!(Number.isFinite(alpha) && alpha > 0)) throw new Error(`LoRA alpha must be a number > 0 (e.g. 16), got ${String(alpha)}.`);
}

/**
 * Attaches one adapter per spec (B = 0, A drawn from `seed`) and freezes the base weights. The
 * building block of applyLoRA, and of loading adapters whose modules and ranks come from a file.
 */
export function attachLoRA(
  model: GPT,
  specs: readonly LoRASpec[],
  dropout: number,
  seed: number | string = model.config.seed,
): LoRAAdapter[] {
  model.checkAlive();
  if (loraAdapters(model).length > 0) throw new Error('applyLoRA: the model already has LoRA adapters; mergeLoRA(model) first.');
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`LoRA dropout must be in [0, 1), got ${String(dropout)}.`);
  const linears = model.linears();
  const rng = createRng(`${seed}:lora`);
  const adapters: LoRAAdapter[] = [];
  // One order whatever the order of the targets or of a file's keys: layer by layer, then by
  // column, so adapters restored from a file draw the same dropout seeds (seed + index) as before.
  const order = new Map([...linears.keys()].map((k, i) => [k, i] as const));
  const rankOf = (s: LoRASpec): number => order.get(s.site.linear) ?? -1;
  const sorted = [...specs].sort(
    (p, q) => rankOf(p) - rankOf(q) || p.site.columns[0] - q.site.columns[0] || p.site.columns[1] - q.site.columns[1],
  );
  try {
    for (const { site, rank, alpha } of sorted) {
      checkRankAlpha(rank, alpha);
      const lin = linears.get(site.linear);
      if (!lin) throw new Error(`applyLoRA: the model has no linear layer ${site.linear}.`);
      if (rank > Math.min(lin.nIn, site.columns[1] - site.columns[0])) {
        throw new Error(
          `LoRA rank ${rank} exceeds the size of ${site.peftModule} (${lin.nIn} → ${site.columns[1] - site.columns[0]}); choose a smaller rank.`,
        );
      }
      const a = new LoRAAdapter(site, lin.nIn, rank, alpha, dropout, rng);
      lin.addAdapter(a);
      adapters.push(a);
    }
  } catch (e) {
    removeLoRA(model);
    throw e;
  }
  setBaseTrainable(model, false);
  return adapters;
}

/**
 * Adds LoRA adapters (W + (α/r)·B·A, B = 0 at first) to the chosen linear layers and freezes
 * the base weights, so only adapter weights train: every trainer then trains the adapters
 * ({@link trainedWeights}). One set of adapters at a time: merge (mergeLoRA) before applying another.
 */
export function applyLoRA(model: GPT, options: LoRAOptions = {}): LoRAState {
  model.checkAlive();
  if (loraAdapters(model).length > 0) throw new Error('applyLoRA: the model already has LoRA adapters; mergeLoRA(model) first.');
  const rank = options.rank ?? 8;
  const alpha = options.alpha ?? 8;
  const dropout = options.dropout ?? 0;
  checkRankAlpha(rank, alpha);
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`LoRA dropout must be in [0, 1), got ${String(dropout)}.`);
  const targets = options.targets ?? defaultTargets(model.config);
  const sites = resolveTargets(model.config, targets);
  const adapters = attachLoRA(
    model,
    sites.map((site) => ({ site, rank, alpha })),
    dropout,
    options.seed ?? model.config.seed,
  );
  return { rank, alpha, dropout, targets: [...targets], adapters };
}

/**
 * The weights a trainer updates: `explicit` when given; else, while LoRA adapters are attached,
 * only theirs (the base is frozen, as with PEFT); else every weight of the model.
 */
export function trainedWeights(model: LanguageModel, explicit?: Map<string, tf.Variable>): Map<string, tf.Variable> {
  if (explicit !== undefined) return explicit;
  if (model instanceof GPT && loraAdapters(model).length > 0) return loraWeights(model);
  return model.namedWeights();
}

/** The settings of the adapters on `model`, or null without any. */
export function loraState(model: GPT): LoRAState | null {
  const adapters = loraAdapters(model);
  if (adapters.length === 0) return null;
  const targets = [...new Set(adapters.map((a) => a.site.target))];
  return { rank: adapters[0].rank, alpha: adapters[0].alpha, dropout: adapters[0].dropout, targets, adapters };
}

/**
 * Adapter weights by PEFT's saved names ("base_model.model.<module>.lora_A.weight"): the only
 * trainable weights while adapters are attached.
 */
export function loraWeights(model: GPT): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const a of loraAdapters(model)) for (const [n, v] of a.weights()) out.set(`base_model.model.${a.site.peftModule}.${n}`, v);
  return out;
}

/**
 * Folds every LoRA adapter into its layer, W[:, from:to] += (α/r)·Aᵀ·Bᵀ, removes and frees the
 * adapters and unfreezes the base weights. Afterwards the model is a plain GPT (fast decoding again).
 */
export function mergeLoRA(model: GPT): void {
  model.checkAlive();
  for (const lin of model.linears().values()) {
    const all = lin.removeAdapters();
    for (const a of all) {
      if (!(a instanceof LoRAAdapter)) continue;
      const [from, to] = a.columns;
      tf.tidy(() => {
        const delta = tf.pad(a.deltaWeight(), [[0, 0], [from, lin.nOut - to]]); // (in, out), zero outside the slice
        lin.weight.assign(tf.add(lin.weight, delta)); // (in, out)
      });
      a.dispose();
    }
    for (const a of all) if (!(a instanceof LoRAAdapter)) lin.addAdapter(a);
  }
  setBaseTrainable(model, true);
}

/** Detaches and frees every LoRA adapter without merging (the base model as it was). */
export function removeLoRA(model: GPT): void {
  for (const lin of model.linears().values()) {
    const all = lin.removeAdapters();
    for (const a of all) {
      if (a instanceof LoRAAdapter) a.dispose();
      else lin.addAdapter(a);
    }
  }
  setBaseTrainable(model, true);
}
