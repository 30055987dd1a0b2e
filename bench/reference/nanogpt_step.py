#!/usr/bin/python3
"""Time one nanoGPT-style training step in PyTorch on the CPU (reference for tinygpt's speed bench).

Model: GPT-2 architecture as in nanoGPT (LayerNorm with bias, exact-erf GeLU,
tied token embedding / lm_head, dropout 0) with the Shakespeare-char CPU
recipe: vocab 65, block 64, 4 layers, 4 heads, 128 embd, batch 12.
Step: forward, cross-entropy, backward, global-norm clip at 1.0, AdamW
(lr 1e-3, betas (0.9, 0.99), weight decay 0.1 on parameters with >= 2 dims).
Batches are uniform random tokens drawn up front from a seeded generator, so
only the training step is timed.

Usage:  OMP_NUM_THREADS=1 /usr/bin/python3 bench/reference/nanogpt_step.py [--threads N] [--steps N] [--warmup N]
            [--n-layer 4 --n-head 4 --n-embd 128 --block 64 --batch 12]
(the second workload of bench/compare-speed.ts: --n-layer 6 --n-head 6 --n-embd 384 --block 256 --batch 8)
Prints one JSON line:
  {"impl":"pytorch","threads":N,"ms_per_iter":..,"tokens_per_sec":..,"peak_rss_mib":..}
ms_per_iter is the median over the timed steps; peak RSS is the process high-water mark.
Needs Debian's python3-torch with libopenblas0-openmp; the OpenBLAS kernel set is chosen
from the CPU flags (see pick_openblas_core), and the chosen one is logged on stderr.
"""

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time


def pick_openblas_core():
    """Name the OpenBLAS kernel set from the CPU flags unless OPENBLAS_CORETYPE is already set.

    Debian's OpenBLAS picks its kernels from the CPU model number; under a
    hypervisor that reports a generic "Intel Xeon Processor" it falls back to
    the SSE3 "Prescott" kernels, about 7x slower at these matrix sizes than the
    AVX-512 ones the CPU actually has. It reads the variable when the library
    loads, so this must run before torch is imported. Set
    OPENBLAS_CORETYPE=Prescott to reproduce the untuned default.
    """
    if os.environ.get("OPENBLAS_CORETYPE"):
        return os.environ["OPENBLAS_CORETYPE"] + " (from environment)"
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return "auto"
    if "avx512f" in flags and "avx512vl" in flags and "avx512bw" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    elif "avx2" in flags and "fma" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"
    else:
        return "auto"
    return os.environ["OPENBLAS_CORETYPE"] + " (from CPU flags)"


BLAS_CORE = pick_openblas_core()

import torch  # noqa: E402  (must follow pick_openblas_core)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

VOCAB, BLOCK, N_LAYER, N_HEAD, N_EMBD, BATCH = 65, 64, 4, 4, 128, 12


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(N_EMBD, 3 * N_EMBD)
        self.c_proj = nn.Linear(N_EMBD, N_EMBD)
        self.register_buffer("causal", torch.tril(torch.ones(BLOCK, BLOCK, dtype=torch.bool)))

    def forward(self, x):
        B, T, C = x.shape
        hs = C // N_HEAD
        # PyTorch 1.13 has no fused scaled_dot_product_attention, so this is
        # the explicit path nanoGPT falls back to on old versions.
        q, k, v = (t.view(B, T, N_HEAD, hs).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(~self.causal[:T, :T], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(N_EMBD)
        self.attn = SelfAttention()
        self.ln_2 = nn.LayerNorm(N_EMBD)
        self.c_fc = nn.Linear(N_EMBD, 4 * N_EMBD)
        self.gelu = nn.GELU()
        self.mlp_proj = nn.Linear(4 * N_EMBD, N_EMBD)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(self.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, N_EMBD)
        self.wpe = nn.Embedding(BLOCK, N_EMBD)
        self.blocks = nn.ModuleList(Block() for _ in range(N_LAYER))
        self.ln_f = nn.LayerNorm(N_EMBD)
        self.lm_head = nn.Linear(N_EMBD, VOCAB, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying
        # GPT-2 initialisation: N(0, 0.02), zero biases, residual projections
        # scaled by 1/sqrt(2 * n_layer) so the residual stream variance stays flat.
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * N_LAYER) if name.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def main():
    global N_LAYER, N_HEAD, N_EMBD, BLOCK, BATCH
    ap = argparse.ArgumentParser(description="nanoGPT CPU training-step timing (PyTorch reference)")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")))
    ap.add_argument("--steps", type=int, default=20, help="timed steps (median reported)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--n-layer", type=int, default=N_LAYER)
    ap.add_argument("--n-head", type=int, default=N_HEAD)
    ap.add_argument("--n-embd", type=int, default=N_EMBD)
    ap.add_argument("--block", type=int, default=BLOCK)
    ap.add_argument("--batch", type=int, default=BATCH)
    args = ap.parse_args()
    # The modules read these module-level sizes when they are built, so set them first.
    N_LAYER, N_HEAD, N_EMBD, BLOCK, BATCH = args.n_layer, args.n_head, args.n_embd, args.block, args.batch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = GPT()
    model.train()

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3,
        betas=(0.9, 0.99),
    )

    gen = torch.Generator().manual_seed(args.seed)
    total = args.warmup + args.steps
    xs = torch.randint(0, VOCAB, (total, BATCH, BLOCK), generator=gen)
    ys = torch.randint(0, VOCAB, (total, BATCH, BLOCK), generator=gen)

    times_ms = []
    loss_val = float("nan")
    for i in range(total):
        t0 = time.perf_counter()
        logits = model(xs[i])
        loss = F.cross_entropy(logits.view(-1, VOCAB), ys[i].view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss_val = loss.item()
        dt = (time.perf_counter() - t0) * 1000.0
        if i >= args.warmup:
            times_ms.append(dt)

    ms = statistics.median(times_ms)
    # ru_maxrss is in KiB on Linux.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"# torch {torch.__version__}, OpenBLAS core {BLAS_CORE}, {n_params} params, {args.steps} timed steps, "
        f"min {min(times_ms):.1f} ms, max {max(times_ms):.1f} ms, last loss {loss_val:.4f}",
        file=sys.stderr,
    )
    line = {
        "impl": "pytorch",
        "threads": args.threads,
        "ms_per_iter": round(ms, 2),
        "tokens_per_sec": round(BATCH * BLOCK / (ms / 1000.0), 1),
        "peak_rss_mib": round(peak_mib, 1),
    }
    print(json.dumps(line, separators=(",", ":")))


if __name__ == "__main__":
    main()
