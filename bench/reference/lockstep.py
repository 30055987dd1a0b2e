#!/usr/bin/python3
"""PyTorch side of bench/lockstep.ts: train the recipe from tinygpt's saved initial weights on the
given batch offsets and print every step's loss as one JSON list.

Usage: OMP_NUM_THREADS=1 /usr/bin/python3 bench/reference/lockstep.py DIR DATA
DIR holds init/model.safetensors (tinygpt names, weights stored (in, out)) and offsets.json.
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nanogpt_step as ref  # noqa: E402  (sets the OpenBLAS core before torch loads)
from nanogpt_shakespeare import lr_at, strip_biases  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        begin, end = spec["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + begin:8 + n + end]), dtype=torch.float32).reshape(spec["shape"])
    return out


def main():
    folder, data_path = sys.argv[1], sys.argv[2]
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    w = read_safetensors(os.path.join(folder, "init", "model.safetensors"))
    ref.VOCAB = w["wte.weight"].shape[0]
    model = strip_biases(ref.GPT())
    with torch.no_grad():
        model.wte.weight.copy_(w["wte.weight"])
        model.wpe.weight.copy_(w["wpe.weight"])
        model.ln_f.weight.copy_(w["ln_f.weight"])
        for i, block in enumerate(model.blocks):
            p = f"h.{i}."
            block.ln_1.weight.copy_(w[p + "ln_1.weight"])
            block.ln_2.weight.copy_(w[p + "ln_2.weight"])
            # tinygpt stores (in, out) like GPT-2's Conv1D; nn.Linear holds (out, in).
            block.attn.c_attn.weight.copy_(w[p + "attn.c_attn.weight"].T)
            block.attn.c_proj.weight.copy_(w[p + "attn.c_proj.weight"].T)
            block.c_fc.weight.copy_(w[p + "mlp.c_fc.weight"].T)
            block.mlp_proj.weight.copy_(w[p + "mlp.c_proj.weight"].T)
    text = open(data_path, encoding="utf-8").read()
    stoi = {c: i for i, c in enumerate(sorted(set(text)))}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    train = data[:int(0.9 * len(data))]
    offsets = json.load(open(os.path.join(folder, "offsets.json")))
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))
    block = ref.BLOCK
    losses = []
    for it, offs in enumerate(offsets):
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        x = torch.stack([train[o:o + block] for o in offs])
        y = torch.stack([train[o + 1:o + 1 + block] for o in offs])
        loss = F.cross_entropy(model(x).view(-1, ref.VOCAB), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    print(json.dumps(losses))


if __name__ == "__main__":
    main()
