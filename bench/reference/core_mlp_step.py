"""PyTorch twin of bench/core-mlp-step.ts: one Adam step of the 784-256-256-10 MLP with dropout 0.3.
    /usr/bin/python3 bench/reference/core_mlp_step.py [--device cpu|cuda] [--batch 32] [--threads T:B] [--out FILE]
On the CPU it runs once per thread setting (threads.py) and keeps every entry; bench/compare takes the fastest.
"""
import argparse

from threads import parse_with_threads

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=32)
p.add_argument("--hidden", type=int, default=256)
args, torch_threads, blas_threads = parse_with_threads(p, "core-mlp-step")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from common import entry, measure, report  # noqa: E402

torch.manual_seed(1)
h = args.hidden
model = nn.Sequential(nn.Linear(784, h), nn.ReLU(), nn.Dropout(0.3), nn.Linear(h, h), nn.ReLU(), nn.Dropout(0.3), nn.Linear(h, 10)).to(args.device)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.rand(args.batch, 784, device=args.device)
y = torch.arange(args.batch, device=args.device) % 10
loss_fn = nn.CrossEntropyLoss()


def step():
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


sync = torch.cuda.synchronize if args.device == "cuda" else None
r = measure(step, warmup=3, repeats=20, sync=sync)
e = entry("core-mlp-step", args.device, {"layers": [784, h, h, 10], "batch": args.batch, "optimizer": "adam", "dropout": 0.3}, r, {"value": args.batch / (r["medianMs"] / 1000), "unit": "examples/s"})
e["impl"] = f"pytorch-cpu-t{torch_threads}b{blas_threads}" if args.device == "cpu" else "pytorch-cuda"
report(f"core-mlp-step-pytorch-{args.device}", [e], args.out)
