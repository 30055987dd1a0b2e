import { isGpt2Architecture, planModel } from '../config/plan.js';
import { weightTable } from '../config/names.js';
import type { ResolvedGPTConfig } from '../config/config.js';
import type { LoRASite } from './loraAdapter.js';

/** Target names users know from PEFT: Llama's projections and GPT-2's Conv1D modules. */
export const LORA_TARGETS: readonly string[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'c_attn', 'c_proj', 'c_fc', 'c_up'];

/** PEFT's defaults when target_modules is not given: GPT-2 ["c_attn"], Llama ["q_proj", "v_proj"]. */
export function defaultTargets(c: ResolvedGPTConfig): string[] {
  return isGpt2Architecture(c) ? ['c_attn'] : ['q_proj', 'v_proj'];
}

/** The Hugging Face module names (GPT-2's or Llama's) of each canonical module path: h.0.attn.c_attn → its one or three HF modules. */
export function hfModules(c: ResolvedGPTConfig): Map<string, string[]> {
  const gpt2 = isGpt2Architecture(c);
  const out = new Map<string, string[]>();
  for (const row of weightTable(c, gpt2 ? 'hf-gpt2' : 'hf-llama')) {
    if (!row.canonical.endsWith('.weight')) continue;
    out.set(row.canonical.slice(0, -'.weight'.length), row.stored.map((s) => s.slice(0, -'.weight'.length)));
  }
  return out;
}

/**
 * Where the targets put adapters, layer by layer. q/k/v select column ranges of the fused
 * c_attn (columns [q heads | k heads | v heads]); c_proj selects both projections named so in
 * GPT-2 (attn.c_proj and mlp.c_proj), as PEFT's suffix match does. On a Llama-style model c_attn
 * means q, k and v (saved under their Hugging Face names). Unknown names, and names the model has
 * no module for (gate_proj on an ungated FFN), are errors naming the choices.
 */
export function resolveTargets(c: ResolvedGPTConfig, targets: readonly string[]): LoRASite[] {
  if (!Array.isArray(targets) || targets.length === 0) throw new Error(`LoRA targets must be a non-empty list, e.g. ${JSON.stringify(defaultTargets(c))}.`);
  const gpt2 = isGpt2Architecture(c);
  const hf = hfModules(c);
  const sites: LoRASite[] = [];
  const seen = new Set<string>();
  for (const target of targets) {
    if (!LORA_TARGETS.includes(target)) {
      throw new Error(`unknown LoRA target "${target}"; choose from ${LORA_TARGETS.join(', ')}.`);
    }
    for (const l of planModel(c).layers) {
      const h = `h.${l.index}.`;
      const q = l.nHead * l.headDim;
      const kv = l.nKvHead * l.headDim;
      const qkvCols: Record<string, [number, number]> = { q_proj: [0, q], k_proj: [q, q + kv], v_proj: [q + kv, q + 2 * kv] };
      const add = (linear: string, columns: [number, number], peftModule: string): void => {
        const key = `${linear}[${columns[0]},${columns[1]})`;
        if (seen.has(key)) return; // two targets naming one module add one adapter
        seen.add(key);
        sites.push({ target, linear, columns, peftModule });
      };
      const whole = (slot: string, width: number): void => {
        const linear = h + slot;
        add(linear, [0, width], (hf.get(linear) ?? [linear])[0]);
      };
      const ffnWidth = l.ffnHidden;
      const qkvSlice = (name: string): void => {
        const linear = `${h}attn.c_attn`;
        const split = hf.get(linear) ?? [];
        // Llama-style models store q/k/v as separate modules; GPT-2 has none, so name them after c_attn's parent
        // (saveLoRA then writes them fused into c_attn, which PEFT finds on Hugging Face GPT-2: loraPeft.ts).
        const peft = split.length === 3 ? split[['q_proj', 'k_proj', 'v_proj'].indexOf(name)] : `${(split[0] ?? linear).replace(/c_attn$/, '')}${name}`;
        add(linear, qkvCols[name], peft);
      };
      switch (target) {
        case 'q_proj':
        case 'k_proj':
        case 'v_proj':
          qkvSlice(target);
          break;
        case 'c_attn':
          if (gpt2) whole('attn.c_attn', q + 2 * kv);
          else ['q_proj', 'k_proj', 'v_proj'].forEach(qkvSlice);
          break;
        case 'o_proj':
          whole('attn.c_proj', c.nEmbd);
          break;
        case 'c_proj':
          whole('attn.c_proj', c.nEmbd);
          whole('mlp.c_proj', c.nEmbd);
          break;
        case 'down_proj':
          whole('mlp.c_proj', c.nEmbd);
          break;
        case 'c_fc':
          whole('mlp.c_fc', ffnWidth);
          break;
        case 'gate_proj':
          if (!l.gated) throw new Error('LoRA target "gate_proj" needs a gated FFN; this model\'s FFN is not gated, use up_proj (or c_fc).');
          whole('mlp.c_fc', ffnWidth);
          break;
        case 'up_proj':
          whole(l.gated ? 'mlp.c_up' : 'mlp.c_fc', ffnWidth);
          break;
        case 'c_up':
          if (!l.gated) throw new Error('LoRA target "c_up" needs a gated FFN; this model\'s FFN is not gated, use c_fc.');
          whole('mlp.c_up', ffnWidth);
          break;
      }
    }
  }
  return sites;
}

/**
 * Every module a PEFT file may adapt on a model of c's layout, by its Hugging Face name, with
 * the site an adapter there occupies (target: the module's last name). On GPT-2 layouts this
 * includes attn.q_proj/k_proj/v_proj, the slices of c_attn that tinygpt's files named so before
 * q/k/v adapters were saved fused into c_attn.
 */
export function peftSites(c: ResolvedGPTConfig): Map<string, LoRASite> {
  const out = new Map<string, LoRASite>();
  for (const target of LORA_TARGETS) {
    let sites: LoRASite[];
    try {
      sites = resolveTargets(c, [target]);
    } catch {
      continue; // a module this layout lacks (gate_proj without a gated FFN)
    }
    for (const s of sites) {
      if (!out.has(s.peftModule)) out.set(s.peftModule, { ...s, target: s.peftModule.slice(s.peftModule.lastIndexOf('.') + 1) });
    }
  }
  return out;
}
