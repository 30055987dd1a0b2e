#!/usr/bin/python3
"""Train the Shakespeare-char CPU recipe in PyTorch and print val loss at 250/500/1000/2000 steps.

Our own nanoGPT-style trainer (model from nanogpt_step.py, but without biases as nanoGPT's
train.py defaults to bias=False): vocab from the corpus, block 64, batch 12, 4x4x128, AdamW
lr 1e-3 (warmup 100, cosine to 1e-4 at 2000), betas (0.9, 0.99), weight decay 0.1 on >= 2-D
weights, grad clip 1.0, eval_iters 20. Several seeds show how much a single run's figure varies.

Usage: OMP_NUM_THREADS=1 /usr/bin/python3 bench/reference/nanogpt_shakespeare.py DATA [--seeds 1337,1,2]
"""

import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nanogpt_step as ref  # noqa: E402  (sets the OpenBLAS core before torch loads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

STEPS, WARMUP, LR, MIN_LR, EVAL_ITERS = 2000, 100, 1e-3, 1e-4, 20
CHECKS = (250, 500, 1000, 2000)


def lr_at(it):
    if it < WARMUP:
        return LR * (it + 1) / (WARMUP + 1)
    ratio = (it - WARMUP) / (STEPS - WARMUP)
    return MIN_LR + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (LR - MIN_LR)


def strip_biases(model):
    """nanoGPT's recipe runs with bias=False: LayerNorms without offset, Linears without bias."""
    for m in model.modules():
        if isinstance(m, nn.Linear) and m.bias is not None:
            m.bias = None
        if isinstance(m, nn.LayerNorm):
            m.bias = None
    return model


def run(data, vocab, seed):
    torch.manual_seed(seed)
    ref.VOCAB = vocab
    model = strip_biases(ref.GPT())
    n = int(0.9 * len(data))
    splits = {"train": data[:n], "val": data[n:]}

    def batch(split):
        d = splits[split]
        ix = torch.randint(len(d) - ref.BLOCK, (ref.BATCH,))
        x = torch.stack([d[i:i + ref.BLOCK] for i in ix])
        y = torch.stack([d[i + 1:i + 1 + ref.BLOCK] for i in ix])
        return x, y

    @torch.no_grad()
    def estimate():
        model.eval()
        out = {}
        for split in ("train", "val"):
            losses = [F.cross_entropy(model(x).view(-1, vocab), y.view(-1)).item() for x, y in (batch(split) for _ in range(EVAL_ITERS))]
            out[split] = sum(losses) / len(losses)
        model.train()
        return out

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.99))
    rows = {}
    for it in range(STEPS + 1):
        if it in CHECKS:
            rows[it] = estimate()
            print(f"# seed {seed} step {it}: train {rows[it]['train']:.4f} val {rows[it]['val']:.4f}", file=sys.stderr)
        if it == STEPS:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        x, y = batch("train")
        loss = F.cross_entropy(model(x).view(-1, vocab), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return {str(k): round(v["val"], 4) for k, v in rows.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--seeds", default="1337,1,2")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    text = open(args.data, encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    for seed in (int(s) for s in args.seeds.split(",")):
        print(json.dumps({"impl": "pytorch", "seed": seed, "val": run(data, len(chars), seed)}), flush=True)


if __name__ == "__main__":
    main()
