/**
 * Between tinygpt's adapters and the modules of a PEFT adapter file. Hugging Face GPT-2 has one
 * fused c_attn Conv1D and no q_proj/k_proj/v_proj, so on GPT-2 layouts every adapter of one linear
 * layer is saved as ONE adapter of that layer: rank-r adapters on q, k and v (A_q, B_q, ...) are
 * exactly the rank-3r adapter A = [A_q; A_k; A_v] (3r × in), B = blockdiag(B_q, B_k, B_v)
 * (3d × 3r), with α written as 3α so that the scale α/r stays the same. Llama-style models have
 * the separate modules, and keep one adapter per module.
 */
import type { ResolvedGPTConfig } from '../config/config.js';
import { isGpt2Architecture } from '../config/plan.js';
import type { TensorData } from '../io/safetensorsTypes.js';
import type { GPT } from '../model/gpt.js';
import { loraAdapters, type LoRASpec } from './lora.js';
import type { LoRAAdapter, LoRASite } from './loraAdapter.js';
import { hfModules, peftSites } from './loraTargets.js';

/** One module of a PEFT adapter file: its Hugging Face name, rank, α and factors. */
export interface PeftModule {
  /** The module in the Hugging Face model (transformer.h.0.attn.c_attn). */
  readonly module: string;
  readonly rank: number;
  readonly alpha: number;
  /** lora_A.weight (r, in). */
  readonly a: TensorData;
  /** lora_B.weight (out, r). */
  readonly b: TensorData;
}

/** One adapter's rows of A, or columns of B, inside a fused module. */
function fuseGroup(module: string, group: readonly LoRAAdapter[], nIn: number, nOut: number): PeftModule {
  const rank = group.reduce((n, g) => n + g.rank, 0);
  const alpha = group.reduce((n, g) => n + g.alpha, 0);
  const scale = alpha / rank; // α/r of each adapter when they share r and α
  const a = new Float32Array(rank * nIn); // (R, in)
  const b = new Float32Array(nOut * rank); // (out, R), zero outside each adapter's block
  let at = 0;
  for (const g of group) {
    a.set(g.loraA.dataSync(), at * nIn); // rows [at, at + r) = A_g (r, in)
    const bg = g.loraB.dataSync(); // (to − from, r)
    // An adapter whose α/r differs from the fused one carries the ratio in B, so Δy is unchanged.
    const ratio = g.scale === scale ? 1 : g.scale / scale;
    const [from, to] = g.columns;
    for (let row = from; row < to; row++) {
      for (let k = 0; k < g.rank; k++) b[row * rank + at + k] = bg[(row - from) * g.rank + k] * ratio;
    }
    at += g.rank;
  }
  return { module, rank, alpha, a: { shape: [rank, nIn], data: a }, b: { shape: [nOut, rank], data: b } };
}

/**
 * The model's adapters as PEFT modules: one per Hugging Face module. On GPT-2 layouts the
 * adapters of one linear layer (q/k/v slices of c_attn, or several on one layer) are fused,
 * unless `fuse` is false: then each adapter keeps its own module (q/k/v of GPT-2 under
 * attn.q_proj etc., which only tinygpt reads back), so a checkpoint restores the very adapters
 * that trained, with the names their AdamW moments carry.
 */
export function peftModules(model: GPT, fuse = true): PeftModule[] {
  const gpt2 = fuse && isGpt2Architecture(model.config);
  const hf = hfModules(model.config);
  const linears = model.linears();
  const groups = new Map<string, LoRAAdapter[]>();
  for (const a of loraAdapters(model)) {
    const key = gpt2 ? a.site.linear : a.site.peftModule;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  const out: PeftModule[] = [];
  for (const [key, group] of groups) {
    const lin = linears.get(group[0].site.linear)!;
    const g = group[0];
    if (group.length === 1 && (!gpt2 || (g.columns[0] === 0 && g.columns[1] === lin.nOut))) {
      const a = { shape: [...g.loraA.shape], data: g.loraA.dataSync() as Float32Array };
      const b = { shape: [...g.loraB.shape], data: g.loraB.dataSync() as Float32Array };
      out.push({ module: g.site.peftModule, rank: g.rank, alpha: g.alpha, a, b });
    } else {
      out.push(fuseGroup((hf.get(key) ?? [key])[0], group, lin.nIn, lin.nOut));
    }
  }
  return out;
}

const lastName = (m: string): string => m.slice(m.lastIndexOf('.') + 1);
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function mostCommon(xs: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  // A tie goes to the smaller value: the unfused rank and α the user chose, with the fused modules in the patterns.
  return [...counts].reduce((best, c) => (c[1] > best[1] || (c[1] === best[1] && c[0] < best[0]) ? c : best))[0];
}

/**
 * PEFT's r / lora_alpha (the most common values) and rank_pattern / alpha_pattern for the
 * modules that differ: keyed by the module's last name (c_attn) when every module of that name
 * agrees, else by its path after the first name, escaped (PEFT reads keys as regular expressions
 * matched against the module's end).
 */
function patterned(
  modules: readonly PeftModule[],
  value: (m: PeftModule) => number,
): { value: number; pattern: Record<string, number> } {
  const common = mostCommon(modules.map(value));
  const pattern: Record<string, number> = {};
  for (const m of modules) {
    const v = value(m);
    if (v === common) continue;
    const name = lastName(m.module);
    const agree = modules.filter((o) => lastName(o.module) === name).every((o) => value(o) === v);
    pattern[agree ? name : escapeRegExp(m.module.slice(m.module.indexOf('.') + 1))] = v;
  }
  return { value: common, pattern };
}

/** The rank and α fields of adapter_config.json for these modules. */
export function peftRankFields(modules: readonly PeftModule[]): {
  r: number;
  lora_alpha: number;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
} {
  const r = patterned(modules, (m) => m.rank);
  const alpha = patterned(modules, (m) => m.alpha);
  return { r: r.value, lora_alpha: alpha.value, rank_pattern: r.pattern, alpha_pattern: alpha.pattern };
}

/**
 * PEFT's target_modules for exactly these modules: for each, the shortest name suffix (c_attn,
 * then attn.c_proj, ...) that selects no module of the model left without an adapter, since
 * PEFT adapts every module whose name ends in a target.
 */
export function peftTargetModules(c: ResolvedGPTConfig, modules: readonly string[]): string[] {
  const adapted = new Set(modules);
  const all = [...hfModules(c).values()].flat();
  const out: string[] = [];
  for (const m of modules) {
    const names = m.split('.');
    for (let k = 1; k <= names.length; k++) {
      const suffix = names.slice(-k).join('.');
      const selects = all.filter((n) => n === suffix || n.endsWith(`.${suffix}`));
      if (selects.every((n) => adapted.has(n)) || k === names.length) {
        if (!out.includes(suffix)) out.push(suffix);
        break;
      }
    }
  }
  return out;
}

/** PEFT's lookup of rank_pattern / alpha_pattern: the first key that matches the end of the module's name. */
export function matchPattern(
  pattern: Readonly<Record<string, unknown>>,
  module: string,
  file: string,
  field: string,
): number | undefined {
  for (const [key, v] of Object.entries(pattern)) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:.*\\.)?(?:${key})$`);
    } catch {
      throw new Error(`${file}: ${field} key ${JSON.stringify(key)} is not a valid regular expression.`);
    }
    if (!re.test(module)) continue;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new Error(`${file}: ${field}[${JSON.stringify(key)}] must be a number, got ${JSON.stringify(v)}.`);
    return v;
  }
  return undefined;
}

/** What a PEFT file's config says about ranks and α. */
export interface PeftRankConfig {
  readonly r: number;
  readonly loraAlpha: number;
  readonly rankPattern: Readonly<Record<string, unknown>>;
  readonly alphaPattern: Readonly<Record<string, unknown>>;
}

const KEY = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/;

/**
 * The adapters a PEFT file describes, as specs for attachLoRA with each factor's values. The
 * rank of a module is its lora_A's row count (checked against rank_pattern / r); α comes from
 * alpha_pattern or lora_alpha. Keys that are not LoRA factors of a module this model has, and
 * factors of the wrong shape, are errors naming the key.
 */
export function specsFromPeft(
  model: GPT,
  tensors: ReadonlyMap<string, TensorData>,
  cfg: PeftRankConfig,
  file: string,
): { specs: LoRASpec[]; values: Map<LoRASite, [TensorData, TensorData]> } {
  const sites = peftSites(model.config);
  const linears = model.linears();
  const factors = new Map<string, { A?: TensorData; B?: TensorData }>();
  for (const [key, t] of tensors) {
    const m = KEY.exec(key);
    if (!m)
      throw new Error(
        `${file} holds ${key}, which is not a LoRA factor (base_model.model.<module>.lora_A.weight / lora_B.weight).`,
      );
    if (!sites.has(m[1])) {
      throw new Error(
        `${file} holds ${key}, but this model has no module ${m[1]} to adapt (e.g. ${[...sites.keys()][0]}); the adapters were made for another model.`,
      );
    }
    const f = factors.get(m[1]) ?? {};
    f[m[2] as 'A' | 'B'] = t;
    factors.set(m[1], f);
  }
  if (factors.size === 0) throw new Error(`${file} holds no LoRA factors.`);
  const specs: LoRASpec[] = [];
  const values = new Map<LoRASite, [TensorData, TensorData]>();
  for (const [module, { A, B }] of factors) {
    const name = (ab: string) => `base_model.model.${module}.lora_${ab}.weight`;
    if (!A || !B) throw new Error(`${file} lacks ${name(A ? 'B' : 'A')}, the other factor of ${module}.`);
    const site = sites.get(module)!;
    const nIn = linears.get(site.linear)!.nIn;
    const rank = A.shape[0];
    const width = site.columns[1] - site.columns[0];
    const shapeOf = (t: TensorData) => `[${t.shape}]`;
    if (A.shape.length !== 2 || A.shape[1] !== nIn) {
      throw new Error(
        `${file}: ${name('A')} has shape ${shapeOf(A)} but this model needs [${rank},${nIn}]; the adapters were trained for another model.`,
      );
    }
    if (B.shape.length !== 2 || B.shape[0] !== width || B.shape[1] !== rank) {
      throw new Error(
        `${file}: ${name('B')} has shape ${shapeOf(B)} but this model needs [${width},${rank}]; the adapters were trained for another model.`,
      );
    }
    const r = matchPattern(cfg.rankPattern, module, file, 'rank_pattern') ?? cfg.r;
    if (r !== rank)
      throw new Error(
        `${file}: ${name('A')} has rank ${rank} but the config gives ${module} rank ${r} (r / rank_pattern); the files do not belong together.`,
      );
    const alpha = matchPattern(cfg.alphaPattern, module, file, 'alpha_pattern') ?? cfg.loraAlpha;
    specs.push({ site, rank, alpha });
    values.set(site, [A, B]);
  }
  return { specs, values };
}
