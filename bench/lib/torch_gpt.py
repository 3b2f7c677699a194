"""The GPT-style character-model AdamW step of bench/lib/gpt.ts in PyTorch (the model of examples/lib/gpt.ts:
2 layers, d=64, 4 heads, T=32, batch 16, vocabulary 83, pre-norm blocks, exact GELU, F.scaled_dot_product_attention
with is_causal (nanoGPT's masked softmax on torch < 2), AdamW with decay on the matrices only). Run as a script it prints a JSON list of
milliseconds per step, one per round; bench/peers/torch_peer.py imports gpt_step.

Usage: python3 torch_gpt.py THREADS ROUNDS SECONDS_PER_ROUND
"""
import json
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

V, T, L, H, C, B = 83, 32, 2, 4, 64, 16


MASK = torch.ones(T, T, dtype=torch.bool).tril()


def sdpa(q, k, v):
    """F.scaled_dot_product_attention(q, k, v, is_causal=True) where torch has it (≥ 2.0); nanoGPT's slow path before."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    s = (q @ k.transpose(-2, -1)) * (q.size(-1) ** -0.5)
    return s.masked_fill(~MASK, float("-inf")).softmax(-1) @ v


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.GELU(), nn.Linear(4 * C, C))

    def forward(self, x):
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        heads = lambda t: t.view(B, T, H, C // H).transpose(1, 2)
        y = sdpa(heads(q), heads(k), heads(v))
        x = x + self.c_proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp(self.ln_2(x))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList(Block() for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        self.lm_head = nn.Linear(C, V, bias=False)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x)
        return self.lm_head(self.ln_f(x))


def gpt_step():
    """A fresh model, its AdamW and a fixed random batch; returns the training-step closure."""
    torch.manual_seed(0)
    model = Gpt()
    named = list(model.named_parameters())
    is_decay = lambda n, p: p.dim() >= 2 and not n.startswith(("wte", "wpe"))
    decay = [p for n, p in named if is_decay(n, p)]
    other = [p for n, p in named if not is_decay(n, p)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))
    x = torch.randint(0, V, (B, T))
    y = torch.randint(0, V, (B, T))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x).view(-1, V), y.view(-1)).backward()
        opt.step()

    return step


if __name__ == "__main__":
    threads, rounds, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    torch.set_num_threads(threads)
    step = gpt_step()
    for _ in range(10):
        step()
    out = []
    for _ in range(rounds):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            step()
            n += 1
        out.append((time.perf_counter() - t0) / n * 1e3)
    print(json.dumps(out))
