"""PyTorch twin of bench/lab2-cnn-step.ts: one training step of Lab 2's standard face CNN
(labs-spec section 3.2): Conv(3->12, k5 s2 p2) / (12->24, k5 s2 p2) / (24->48, k3 s2 p1) / (48->72, k3 s2 p1),
each Conv -> ReLU -> BatchNorm, then Flatten (4*4*72 = 1152) -> Linear(1152, 512) -> ReLU -> Linear(512, 1);
input 64x64x3, batch 32, BCEWithLogitsLoss, Adam(lr 5e-4).
    python3 bench/reference/lab2_cnn_step.py [--device cpu|cuda] [--batch 32] [--repeats 20] [--threads N] [--out FILE]
"""
import argparse
import statistics
import time

import torch
from torch import nn

from common import entry, measure, report, setup_threads

p = argparse.ArgumentParser()
p.add_argument("--device", default="cpu")
p.add_argument("--batch", type=int, default=32)
p.add_argument("--repeats", type=int, default=20)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--threads", type=int, help="torch threads (default: every core)")
p.add_argument("--out")
args = p.parse_args()
threads = setup_threads()
if args.threads:
    threads = args.threads
    torch.set_num_threads(threads)
torch.manual_seed(1)


def block(cin, cout, k):
    return [nn.Conv2d(cin, cout, k, stride=2, padding=k // 2), nn.ReLU(), nn.BatchNorm2d(cout)]


model = nn.Sequential(
    *block(3, 12, 5),
    *block(12, 24, 5),
    *block(24, 48, 3),
    *block(48, 72, 3),
    nn.Flatten(),
    nn.Linear(4 * 4 * 72, 512),
    nn.ReLU(),
    nn.Linear(512, 1),
).to(args.device)
model.train()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
loss_fn = nn.BCEWithLogitsLoss()
x = torch.rand(args.batch, 3, 64, 64, device=args.device)
y = torch.tensor([[1.0] if i < args.batch // 2 else [0.0] for i in range(args.batch)], device=args.device)


def step():
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


sync = torch.cuda.synchronize if args.device == "cuda" else None
r = measure(step, warmup=args.warmup, repeats=args.repeats, sync=sync)
# CPU time of one step over all threads: steadier than wall time on a shared machine (see the .ts twin).
cpu = []
for _ in range(args.repeats):
    c0 = time.process_time()
    step()
    cpu.append((time.process_time() - c0) * 1000)
params = {"batch": args.batch, "input": [64, 64, 3], "filters": [12, 24, 48, 72], "dense": 512, "optimizer": "adam", "lr": 5e-4, "threads": threads}
e = entry("lab2-cnn-step", args.device, params, r, {"value": args.batch / (r["medianMs"] / 1000), "unit": "examples/s"})
e["cpuMs"] = statistics.median(cpu)
report(f"lab2-cnn-step-pytorch-{args.device}", [e], args.out)
print(f"pytorch-{args.device}: median CPU time per step {e['cpuMs']:.1f} ms (all threads)")
