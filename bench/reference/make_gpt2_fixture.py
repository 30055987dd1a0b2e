#!/usr/bin/python3
"""Generate test/fixtures/gpt2-tiny: a tiny GPT-2 checkpoint in Hugging Face layout.

The fixture lets the TypeScript safetensors loader and GPT-2 forward pass be
checked against numbers computed independently here, without Python in the
test suite. Only PyTorch is used: the safetensors file is written by hand and
the model maths is spelled out below, following what Hugging Face's
GPT2LMHeadModel computes (Conv1D weights stored [in, out], tanh-approximate
GeLU, LayerNorm eps 1e-5, lm_head tied to wte).

Weights are drawn in float64, rounded to float32 (that is what is stored), and
the reference logits are computed in float64 from the rounded weights, so the
only error a float32 implementation should show is its own rounding.

Run from anywhere:  OMP_NUM_THREADS=1 /usr/bin/python3 bench/reference/make_gpt2_fixture.py
Output is byte-for-byte deterministic for a given seed and PyTorch version.
"""

import argparse
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO_ROOT, "test", "fixtures", "gpt2-tiny")

# Tiny but structurally complete: 2 heads so head splitting is exercised, 2
# layers so block indexing is exercised, T=8 < n_positions=16 so the loader
# must slice the position table and the causal buffer.
CONFIG = {
    "vocab_size": 50,
    "n_positions": 16,
    "n_embd": 16,
    "n_head": 2,
    "n_layer": 2,
}
EPS = 1e-5
BATCH, SEQ = 2, 8


def draw_weights(gen):
    """Seeded float32 weights keyed by Hugging Face GPT2LMHeadModel state_dict names.

    Matrices N(0, 0.2); biases N(0, 0.1); LayerNorm gains 1 + N(0, 0.1) and
    offsets N(0, 0.1) so that a loader that drops or swaps any of them changes
    the logits visibly.
    """
    V, P, C, L = CONFIG["vocab_size"], CONFIG["n_positions"], CONFIG["n_embd"], CONFIG["n_layer"]

    def normal(shape, std, mean=0.0):
        t = torch.randn(*shape, generator=gen, dtype=torch.float64) * std + mean
        return t.to(torch.float32)

    w = {}
    w["transformer.wte.weight"] = normal((V, C), 0.2)
    w["transformer.wpe.weight"] = normal((P, C), 0.2)
    for i in range(L):
        p = f"transformer.h.{i}."
        w[p + "ln_1.weight"] = normal((C,), 0.1, 1.0)
        w[p + "ln_1.bias"] = normal((C,), 0.1)
        # The causal mask buffer real checkpoints carry; a loader must skip it.
        w[p + "attn.bias"] = torch.tril(torch.ones(P, P, dtype=torch.float32)).view(1, 1, P, P)
        w[p + "attn.c_attn.weight"] = normal((C, 3 * C), 0.2)
        w[p + "attn.c_attn.bias"] = normal((3 * C,), 0.1)
        w[p + "attn.c_proj.weight"] = normal((C, C), 0.2)
        w[p + "attn.c_proj.bias"] = normal((C,), 0.1)
        w[p + "ln_2.weight"] = normal((C,), 0.1, 1.0)
        w[p + "ln_2.bias"] = normal((C,), 0.1)
        w[p + "mlp.c_fc.weight"] = normal((C, 4 * C), 0.2)
        w[p + "mlp.c_fc.bias"] = normal((4 * C,), 0.1)
        w[p + "mlp.c_proj.weight"] = normal((4 * C, C), 0.2)
        w[p + "mlp.c_proj.bias"] = normal((C,), 0.1)
    w["transformer.ln_f.weight"] = normal((C,), 0.1, 1.0)
    w["transformer.ln_f.bias"] = normal((C,), 0.1)
    return w


# ---------------------------------------------------------------------------
# Reference forward, written out by hand (float64).
# ---------------------------------------------------------------------------

def layer_norm_manual(x, gain, offset):
    # y = (x - mean) / sqrt(biased variance + eps) * gain + offset, over the last axis.
    mean = x.sum(-1, keepdim=True) / x.shape[-1]
    centred = x - mean
    var = (centred * centred).sum(-1, keepdim=True) / x.shape[-1]
    return centred / torch.sqrt(var + EPS) * gain + offset


def gelu_new_manual(x):
    # Hugging Face "gelu_new": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def conv1d_manual(x, weight, bias):
    # HF Conv1D keeps weight as [in, out]: y = x W + b, no transpose.
    return torch.matmul(x, weight) + bias


def softmax_manual(scores):
    shifted = scores - scores.max(-1, keepdim=True).values
    e = torch.exp(shifted)
    return e / e.sum(-1, keepdim=True)


def attention_manual(h, w, prefix):
    B, T, C = h.shape
    nh = CONFIG["n_head"]
    hs = C // nh
    qkv = conv1d_manual(h, w[prefix + "attn.c_attn.weight"], w[prefix + "attn.c_attn.bias"])
    q, k, v = qkv[..., :C], qkv[..., C:2 * C], qkv[..., 2 * C:]

    def heads(t):
        return t.reshape(B, T, nh, hs).permute(0, 2, 1, 3)

    q, k, v = heads(q), heads(k), heads(v)
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hs)
    # Entries above the diagonal are future positions: exp(-inf) = 0 removes them.
    future = torch.arange(T).view(1, T) > torch.arange(T).view(T, 1)
    scores = torch.where(future, torch.tensor(float("-inf"), dtype=scores.dtype), scores)
    y = torch.matmul(softmax_manual(scores), v)
    y = y.permute(0, 2, 1, 3).reshape(B, T, C)
    return conv1d_manual(y, w[prefix + "attn.c_proj.weight"], w[prefix + "attn.c_proj.bias"])


def forward_manual(ids, w):
    T = ids.shape[1]
    wte = w["transformer.wte.weight"]
    x = wte[ids] + w["transformer.wpe.weight"][:T]
    for i in range(CONFIG["n_layer"]):
        p = f"transformer.h.{i}."
        x = x + attention_manual(layer_norm_manual(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"]), w, p)
        h = layer_norm_manual(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"])
        h = gelu_new_manual(conv1d_manual(h, w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"]))
        x = x + conv1d_manual(h, w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"])
    x = layer_norm_manual(x, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"])
    return torch.matmul(x, wte.t())  # tied lm_head


# ---------------------------------------------------------------------------
# Cross-check forward built from torch.nn.functional library calls.
# ---------------------------------------------------------------------------

def forward_functional(ids, w):
    B, T = ids.shape
    C, nh = CONFIG["n_embd"], CONFIG["n_head"]
    hs = C // nh
    wte = w["transformer.wte.weight"]
    x = F.embedding(ids, wte) + F.embedding(torch.arange(T), w["transformer.wpe.weight"])
    # Use the stored causal buffer itself, as HF does.
    for i in range(CONFIG["n_layer"]):
        p = f"transformer.h.{i}."
        mask = w[p + "attn.bias"][:, :, :T, :T].bool()
        h = F.layer_norm(x, (C,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], EPS)
        qkv = torch.addmm(w[p + "attn.c_attn.bias"], h.reshape(-1, C), w[p + "attn.c_attn.weight"]).view(B, T, 3 * C)
        q, k, v = (t.view(B, T, nh, hs).transpose(1, 2) for t in qkv.split(C, dim=2))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B * T, C)
        x = x + torch.addmm(w[p + "attn.c_proj.bias"], y, w[p + "attn.c_proj.weight"]).view(B, T, C)
        h = F.layer_norm(x, (C,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], EPS)
        h = torch.addmm(w[p + "mlp.c_fc.bias"], h.reshape(-1, C), w[p + "mlp.c_fc.weight"])
        h = F.gelu(h, approximate="tanh")
        x = x + torch.addmm(w[p + "mlp.c_proj.bias"], h, w[p + "mlp.c_proj.weight"]).view(B, T, C)
    x = F.layer_norm(x, (C,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], EPS)
    return F.linear(x, wte)


# ---------------------------------------------------------------------------
# Writers.
# ---------------------------------------------------------------------------

def write_safetensors(path, tensors):
    """Write float32 tensors in the safetensors layout.

    Layout: u64 little-endian header length N, then N bytes of JSON (padded with
    spaces so the data starts 8-byte aligned), then the concatenated raw
    little-endian tensor bytes; data_offsets are relative to the data start.
    """
    header = {"__metadata__": {"format": "pt"}}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        flat = t.detach().to(torch.float32).contiguous().view(-1).tolist()
        raw = struct.pack("<%df" % len(flat), *flat)
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * ((8 - len(header_bytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for raw in chunks:
            f.write(raw)


def read_safetensors(path):
    """Parse the file back (independently of the writer's bookkeeping) to prove it round-trips."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        vals = struct.unpack("<%df" % ((e - b) // 4), data[b:e])
        out[name] = torch.tensor(vals, dtype=torch.float32).view(*info["shape"])
    return out


def sig7(x):
    return float("%.7g" % x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()

    gen = torch.Generator().manual_seed(args.seed)
    weights32 = draw_weights(gen)
    ids = torch.randint(0, CONFIG["vocab_size"], (BATCH, SEQ), generator=gen, dtype=torch.int64)

    w64 = {k: v.to(torch.float64) for k, v in weights32.items()}
    logits = forward_manual(ids, w64)
    logits_f = forward_functional(ids, w64)
    diff = (logits - logits_f).abs().max().item()
    assert diff < 1e-10, f"manual and torch.nn.functional forwards disagree by {diff}"

    # Greedy tokens must be unambiguous for a float32 implementation.
    top2 = logits.topk(2, dim=-1).values
    margin = (top2[..., 0] - top2[..., 1]).min().item()
    assert margin > 1e-3, f"top-2 logit margin {margin} too small for a stable argmax; change --seed"

    # HF loss with labels=input_ids: position t predicts token t+1, mean over B*(T-1).
    V = CONFIG["vocab_size"]
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1)).item()

    os.makedirs(args.out, exist_ok=True)
    st_path = os.path.join(args.out, "model.safetensors")
    write_safetensors(st_path, weights32)
    back = read_safetensors(st_path)
    assert back.keys() == weights32.keys()
    for k in weights32:
        assert torch.equal(back[k], weights32[k]), k

    config = {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": CONFIG["vocab_size"],
        "n_positions": CONFIG["n_positions"],
        "n_ctx": CONFIG["n_positions"],
        "n_embd": CONFIG["n_embd"],
        "n_head": CONFIG["n_head"],
        "n_layer": CONFIG["n_layer"],
        "n_inner": None,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": EPS,
        "attn_pdrop": 0.1,
        "embd_pdrop": 0.1,
        "resid_pdrop": 0.1,
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")

    expected = {
        "description": (
            "Reference outputs of the GPT-2 forward pass (Hugging Face GPT2LMHeadModel semantics) for "
            "model.safetensors, computed in float64 from the stored float32 weights by "
            "bench/reference/make_gpt2_fixture.py. logits[b][t][v] is rounded to 7 significant digits; "
            "argmax[b][t] is the greedy next token after input_ids[b][0..t]; loss is the mean cross-entropy "
            "of logits[:, t] against input_ids[:, t+1] for t < T-1 (HF labels=input_ids)."
        ),
        "seed": args.seed,
        "input_ids": ids.tolist(),
        "argmax": logits.argmax(-1).tolist(),
        "min_top2_margin": sig7(margin),
        "loss": sig7(loss),
        "logits": [[[sig7(v) for v in row] for row in seq] for seq in logits.tolist()],
    }
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")

    print(f"wrote {args.out}: max|manual - functional| = {diff:.3g}, min top-2 margin = {margin:.4g}, loss = {loss:.6f}")


if __name__ == "__main__":
    main()
