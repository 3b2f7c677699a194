"""PyTorch peer for bench/torch.ts: one round of each workload, medians as JSON on stdout.

Usage: python3 torch_peer.py THREADS SECONDS_PER_WORKLOAD [only-substring]
       python3 torch_peer.py THREADS --rss WORKLOAD STEPS   (peak RSS of STEPS steps of one workload)
Workloads and their metric (higher is better) match bench/torch.ts.
"""
import json
import sys
import time

import torch

import resource

threads = int(sys.argv[1])
rss_mode = sys.argv[2] == "--rss"
budget = 0.0 if rss_mode else float(sys.argv[2])
only = "" if rss_mode else (sys.argv[3] if len(sys.argv) > 3 else "")
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


def gpt(vocab=83, block=32, n_layer=2, n_head=4, d=64, batch=16):
    """bench/lib/gpt.ts's model (examples/lib/gpt.ts) in PyTorch: pre-norm blocks, exact GELU, AdamW."""
    nn, F = torch.nn, torch.nn.functional
    hd = d // n_head
    mask = torch.triu(torch.ones(block, block, dtype=torch.bool), 1)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(c, 2)
            q, k, v = (z.view(b, t, n_head, hd).transpose(1, 2) for z in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / hd**0.5)
            y = F.softmax(att.masked_fill(mask[:t, :t], float("-inf")), -1) @ v
            x = x + self.c_proj(y.transpose(1, 2).reshape(b, t, c))
            return x + self.mlp(self.ln_2(x))

    class Gpt(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(block, d)
            self.h = nn.ModuleList(Block() for _ in range(n_layer))
            self.ln_f, self.lm_head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for blk in self.h:
                x = blk(x)
            return self.lm_head(self.ln_f(x))

    model = Gpt()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.startswith(("wte", "wpe"))]
    other = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and not n.startswith(("wte", "wpe")))]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99)
    )
    x = torch.randint(0, vocab, (batch, block))
    y = torch.randint(0, vocab, (batch, block))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x).view(-1, vocab), y.view(-1)).backward()
        opt.step()

    return step


def cnn(batch=32):
    """bench/lib/cnn.ts's LeNet-ish CNN (bench/lib/torch_cnn.py) with Adam."""
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(784, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


TINY_OPS = 300


def tiny_ops():
    """300 elementwise ops on 8-element tensors, then backward: the per-op cost of the tape."""
    x = torch.randn(8, requires_grad=True)

    def step():
        x.grad = None
        h = x
        for i in range(TINY_OPS // 3):
            h = torch.tanh(h * 0.9 + 0.1)
        h.sum().backward()

    return step


a, b = torch.randn(1_000_000), torch.randn(1_000_000)
m1, m2 = torch.randn(1024, 1024), torch.randn(1024, 1024)
# name -> (factory returning the timed step, work per step); factories run only for the selected workloads.
workloads = {
    "add 1e6": (lambda: lambda: a + b, 12e6 / 1e9),  # GB/s
    "matmul 1024": (lambda: lambda: m1 @ m2, 2 * 1024**3 / 1e9),  # GFLOP/s
    "mlp 784-128-10 b64 adam": (lambda: mlp([784, 128, 10], 64), 1),  # steps/s
    "mlp 784-512-512-10 b128 adam": (lambda: mlp([784, 512, 512, 10], 128), 1),
    "gelu erf [16,32,256] fwd+bwd": (lambda: gelu("none"), 1),
    "gelu tanh [16,32,256] fwd+bwd": (lambda: gelu("tanh"), 1),
    "gpt 2x64 h4 T32 b16 adamw": (gpt, 1),
    "cnn lenet b32 adam": (cnn, 1),
    "300 tiny ops + backward": (tiny_ops, TINY_OPS / 1e6),  # Mops/s (1 / µs per op)
}
if rss_mode:
    name, steps = sys.argv[3], int(sys.argv[4])
    fn = workloads[name][0]()
    for _ in range(steps):
        fn()
    print(json.dumps({"maxRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
    sys.exit(0)
out = {}
for name, (make, work) in workloads.items():
    if only in name:
        with torch.no_grad() if name in ("add 1e6", "matmul 1024") else torch.enable_grad():
            out[name] = work / median_seconds(make())
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "values": out}))
