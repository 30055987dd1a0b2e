#!/usr/bin/python3
"""Time nanoGPT-style sampling in PyTorch (reference for bench/generate-speed.ts).

The same GPT as nanogpt_step.py (Shakespeare-char CPU recipe: 4 layers, 4 heads, 128 wide,
block 64, vocab 65), random weights, no KV cache: like nanoGPT's sample.py, every new token
re-reads the context cropped to the last block_size tokens, then temperature 0.8 and top-k 200.

Usage:  OMP_NUM_THREADS=1 /usr/bin/python3 bench/reference/nanogpt_sample.py [--tokens 500] [--threads 1]
Prints one JSON line: {"impl":"pytorch-sample","threads":N,"tokens":N,"tokens_per_sec":..}
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nanogpt_step import BLAS_CORE, BLOCK, GPT  # noqa: E402  (sets the OpenBLAS core before torch loads)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


@torch.no_grad()
def generate(model, idx, new_tokens, temperature=0.8, top_k=200):
    for _ in range(new_tokens):
        cond = idx if idx.size(1) <= BLOCK else idx[:, -BLOCK:]
        logits = model(cond)[:, -1, :] / temperature
        v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
        logits[logits < v[:, [-1]]] = -float("inf")
        nxt = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
        idx = torch.cat((idx, nxt), dim=1)
    return idx


def main():
    ap = argparse.ArgumentParser(description="nanoGPT-style sampling speed (PyTorch reference)")
    ap.add_argument("--tokens", type=int, default=500)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1337)
    model = GPT().eval()
    start = torch.zeros((1, 1), dtype=torch.long)
    generate(model, start, 20)  # warm-up
    t0 = time.perf_counter()
    out = generate(model, start, args.tokens)
    dt = time.perf_counter() - t0
    print(f"# torch {torch.__version__}, OpenBLAS core {BLAS_CORE}, {out.size(1) - 1} tokens in {dt:.2f} s", file=sys.stderr)
    print(json.dumps({"impl": "pytorch-sample", "threads": args.threads, "tokens": args.tokens,
                      "tokens_per_sec": round(args.tokens / dt, 1)}))


if __name__ == "__main__":
    main()
