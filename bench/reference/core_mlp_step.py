"""PyTorch twin of bench/core-mlp-step.ts: one Adam step of the 784-256-256-10 MLP with dropout 0.3.
    /usr/bin/python3 bench/reference/core_mlp_step.py [--device cpu|cuda] [--batch 32] [--threads T:B] [--out FILE]
On the CPU it runs once per thread setting (threads.py) and keeps every entry; bench/compare takes the fastest.
"""
import argparse
import os
import sys

from threads import run_thread_settings

p = argparse.ArgumentParser()
p.add_argument("--device", default="cpu")
p.add_argument("--batch", type=int, default=32)
p.add_argument("--hidden", type=int, default=256)
p.add_argument("--threads")
p.add_argument("--out")
args = p.parse_args()
if args.device == "cpu" and args.threads is None:
    run_thread_settings("core-mlp-step-pytorch-cpu", args.out)
    sys.exit(0)
torch_threads, blas_threads = (args.threads or "0:0").split(":")
if args.device == "cpu":
    os.environ["OPENBLAS_NUM_THREADS"] = blas_threads

import torch  # noqa: E402
from torch import nn  # noqa: E402

from common import entry, measure, report  # noqa: E402

if args.device == "cpu":
    torch.set_num_threads(int(torch_threads))
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
