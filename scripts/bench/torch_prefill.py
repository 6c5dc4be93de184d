#!/usr/bin/python3
"""The issue's PyTorch reference for prefill with NPTI capture: CPU eager,
float32, random weights at the SmolLM2-135M shape, batch 4 x 128 tokens,
counting per FFN neuron the positions with SiLU(x W_gate) > 0 and the
301-bin histogram of NPTI.md section 2 (what `npti bench` measures).

    apt-get install python3-torch libopenblas0-pthread
    /usr/bin/python3 scripts/bench/torch_prefill.py [--threads 2]

Prints {"prefill_tok_s": ..., "threads": ..., "torch": ...}. Reference only:
not part of the product or its tests.
"""
import argparse
import json
import math
import time

import torch

DIM, HIDDEN, LAYERS, HEADS, KV, HD, VOCAB = 576, 1536, 30, 9, 3, 64, 49152
BINS, WIDTH = 301, 0.01


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    g = lambda *s: torch.randn(*s) * 0.02
    emb = g(VOCAB, DIM)
    layers = [dict(q=g(DIM, DIM), k=g(KV * HD, DIM), v=g(KV * HD, DIM), o=g(DIM, DIM),
                   gate=g(HIDDEN, DIM), up=g(HIDDEN, DIM), down=g(DIM, HIDDEN),
                   n1=torch.ones(DIM), n2=torch.ones(DIM)) for _ in range(LAYERS)]
    norm = torch.ones(DIM)
    inv = 1.0 / (100000.0 ** (torch.arange(0, HD, 2).float() / HD))
    B, T = a.batch, a.length
    pos = torch.arange(T)
    f = pos[:, None].float() * inv[None]
    cos, sin = torch.cat([f, f], -1).cos(), torch.cat([f, f], -1).sin()
    mask = torch.full((T, T), float("-inf")).triu(1)
    edges = torch.tensor([k * WIDTH for k in range(1, BINS - 1)], dtype=torch.float64).float()
    active = torch.zeros(LAYERS, HIDDEN, dtype=torch.int64)
    hist = torch.zeros(LAYERS, HIDDEN * BINS, dtype=torch.int64)

    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def rope(x):
        x1, x2 = x[..., : HD // 2], x[..., HD // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    @torch.inference_mode()
    def forward(ids):
        x = emb[ids]
        for l, w in enumerate(layers):
            h = rms(x, w["n1"])
            q = (h @ w["q"].T).view(B, T, HEADS, HD).transpose(1, 2)
            k = (h @ w["k"].T).view(B, T, KV, HD).transpose(1, 2)
            v = (h @ w["v"].T).view(B, T, KV, HD).transpose(1, 2)
            q, k = rope(q), rope(k)
            k = k.repeat_interleave(HEADS // KV, 1)
            v = v.repeat_interleave(HEADS // KV, 1)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(HD) + mask
            o = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, DIM)
            x = x + o @ w["o"].T
            h = rms(x, w["n2"])
            act = torch.nn.functional.silu(h @ w["gate"].T)
            # The capture: active counts and the 301-bin histogram.
            flat = act.reshape(-1, HIDDEN)
            active[l] += (flat > 0).sum(0)
            bins = torch.where(flat > 0, torch.bucketize(flat, edges) + 1, torch.zeros_like(flat, dtype=torch.int64))
            idx = (torch.arange(HIDDEN) * BINS + bins).reshape(-1)
            hist[l].index_add_(0, idx, torch.ones_like(idx))
            x = x + (act * (h @ w["up"].T)) @ w["down"].T
        return rms(x, norm)[:, -1] @ emb.T

    ids = torch.randint(0, VOCAB, (B, T))
    forward(ids)  # warm-up
    best = 0.0
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        forward(ids)
        best = max(best, B * T / (time.perf_counter() - t0))
    print(json.dumps({"prefill_tok_s": round(best, 1), "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
