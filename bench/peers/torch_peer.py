"""PyTorch peer for bench/torch.ts: one round of each workload, medians as JSON on stdout.

Usage: python3 torch_peer.py THREADS SECONDS_PER_WORKLOAD [only-substring]
Workloads and their metric (higher is better) match bench/torch.ts.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from torch_gpt import gpt_step  # noqa: E402  (the GPT-style step of bench/lib/gpt.ts)

threads, budget = int(sys.argv[1]), float(sys.argv[2])
only = sys.argv[3] if len(sys.argv) > 3 else ""
torch.set_num_threads(threads)
torch.manual_seed(0)


def median_seconds(fn):
    for _ in range(3):
        fn()
    times, end = [], time.perf_counter() + budget
    while time.perf_counter() < end or len(times) < 5:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def mlp(sizes, batch):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, sizes[0])
    y = torch.randint(0, sizes[-1], (batch,))

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def gelu(approximate):
    x = torch.randn(16, 32, 256, requires_grad=True)
    g = torch.randn(16, 32, 256)

    def step():
        x.grad = None
        torch.nn.functional.gelu(x, approximate=approximate).backward(g)

    return step


a, b = torch.randn(1_000_000), torch.randn(1_000_000)
m1, m2 = torch.randn(1024, 1024), torch.randn(1024, 1024)
workloads = {
    "add 1e6": (lambda: a + b, 12e6 / 1e9),  # GB/s
    "matmul 1024": (lambda: m1 @ m2, 2 * 1024**3 / 1e9),  # GFLOP/s
    "mlp 784-128-10 b64 adam": (mlp([784, 128, 10], 64), 1),  # steps/s
    "mlp 784-512-512-10 b128 adam": (mlp([784, 512, 512, 10], 128), 1),
    "gelu erf [16,32,256] fwd+bwd": (gelu("none"), 1),
    "gelu tanh [16,32,256] fwd+bwd": (gelu("tanh"), 1),
    "gpt 2x64 h4 T32 b16 adamw": (gpt_step(), 1),  # steps/s
}
out = {}
for name, (fn, work) in workloads.items():
    if only in name:
        with torch.no_grad() if name in ("add 1e6", "matmul 1024") else torch.enable_grad():
            out[name] = work / median_seconds(fn)
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "values": out}))
