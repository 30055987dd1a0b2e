import { isGated, type ResolvedGPTConfig } from '../config/config.js';
import { usesGpt2Layout } from '../config/plan.js';

/**
 * The name and shape of every weight GPT.namedWeights() will hold for config c, in the same
 * order, computed without building the model, so a loader can check a file's header against
 * the config before it allocates anything. (test/pretrained-validate.test.ts compares it with
 * the built model for every layout.)
 */
export function weightShapes(c: ResolvedGPTConfig): Map<string, number[]> {
  const d = c.nEmbd;
  const out = new Map<string, number[]>([['wte.weight', [c.vocabSize, d]]]);
  const add = (name: string, shape: number[]) => out.set(name, shape);
  const linear = (name: string, i: number, o: number) => {
    add(`${name}.weight`, [i, o]);
    if (c.bias) add(`${name}.bias`, [o]);
  };
  // LayerNorm carries β with bias; RMSNorm never has one.
  const norm = (name: string, n = d) => {
    add(`${name}.weight`, [n]);
    if (c.norm === 'layernorm' && c.bias) add(`${name}.bias`, [n]);
  };
  const gpt2 = usesGpt2Layout(c);
  if (c.position === 'learned') add('wpe.weight', [c.blockSize, d]);
  const f = c.ffnHidden;
  for (let i = 0; i < c.nLayer; i++) {
    const h = `h.${i}.`;
    if (gpt2) {
      add(`${h}ln_1.weight`, [d]);
      if (c.bias) add(`${h}ln_1.bias`, [d]);
      linear(`${h}attn.c_attn`, d, 3 * d);
      linear(`${h}attn.c_proj`, d, d);
      add(`${h}ln_2.weight`, [d]);
      if (c.bias) add(`${h}ln_2.bias`, [d]);
      linear(`${h}mlp.c_fc`, d, f);
      if (isGated(c.activation)) linear(`${h}mlp.c_up`, d, f);
      linear(`${h}mlp.c_proj`, f, d);
      continue;
    }
    const q = c.nHead * c.headDim;
    const kv = c.nKvHead * c.headDim;
    norm(`${h}pre_attention_norm`);
    linear(`${h}attn.q_proj`, d, q);
    linear(`${h}attn.k_proj`, d, kv);
    linear(`${h}attn.v_proj`, d, kv);
    linear(`${h}attn.o_proj`, q, d);
    if (c.qkNorm) (add(`${h}attn.q_norm.weight`, [c.headDim]), add(`${h}attn.k_norm.weight`, [c.headDim]));
    if (c.sandwichNorm) norm(`${h}post_attention_norm`);
    norm(`${h}pre_feedforward_norm`);
    if (isGated(c.activation)) linear(`${h}mlp.gate_proj`, d, f);
    linear(`${h}mlp.up_proj`, d, f);
    linear(`${h}mlp.down_proj`, f, d);
    if (c.sandwichNorm) norm(`${h}post_feedforward_norm`);
  }
  if (gpt2) {
    add('ln_f.weight', [d]);
    if (c.bias) add('ln_f.bias', [d]);
  } else {
    norm('final_norm');
  }
  if (!c.tieEmbeddings) add('lm_head.weight', [c.vocabSize, d]);
  return out;
}
