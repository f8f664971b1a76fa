"""PyTorch twin of bench/lab1-lstm-step.ts: one Lab 1 training step (Embedding 256 -> LSTM 1024 ->
Dense 83, batch 8, sequence 100, Adam 5e-3, softmax cross-entropy), the course's model in PyTorch.
    /usr/bin/python3 bench/reference/lab1_lstm_step.py [--device cpu|cuda] [--batch 8] [--threads T:B]
--threads T:B sets torch threads T and OpenBLAS threads B (T x B <= cores). By default on the CPU
both 2:1 and 1:2 run, each in its own process, and both go in the results file (bench/compare uses
the faster). Writes bench/results/lab1-lstm-step-pytorch-<device>.json.
"""
import argparse
import os
import statistics
import time

from threads import parse_with_threads

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=8)
p.add_argument("--seq", type=int, default=100)
p.add_argument("--units", type=int, default=1024)
p.add_argument("--repeats", type=int, default=5)
args, torch_threads, blas_threads = parse_with_threads(p, "lab1-lstm-step")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from common import entry, measure, report  # noqa: E402

torch.manual_seed(1)
VOCAB, EMBED = 83, 256


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.lstm = nn.LSTM(EMBED, args.units, batch_first=True)
        self.dense = nn.Linear(args.units, VOCAB)

    def forward(self, x):
        h, _ = self.lstm(self.embedding(x))
        return self.dense(h)


model = Model().to(args.device)
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
loss_fn = nn.CrossEntropyLoss()
x = torch.randint(0, VOCAB, (args.batch, args.seq), device=args.device)
y = torch.randint(0, VOCAB, (args.batch, args.seq), device=args.device)


def step():
    opt.zero_grad()
    loss = loss_fn(model(x).reshape(-1, VOCAB), y.reshape(-1))
    loss.backward()
    opt.step()
    return loss.item()


cpu_ms = []


def timed():
    # Process CPU time (all threads together): on a shared, loaded machine it shows the work's own cost.
    start = time.process_time()
    step()
    cpu_ms.append((time.process_time() - start) * 1000)


sync = torch.cuda.synchronize if args.device == "cuda" else None
r = measure(timed, warmup=2, repeats=args.repeats, sync=sync)
params = {"batch": args.batch, "seq": args.seq, "units": args.units, "embedding": EMBED, "vocab": VOCAB, "optimizer": "adam"}
params["loadAverage"] = os.getloadavg()[0]
params["cpuMsMedian"] = statistics.median(cpu_ms)
if args.device == "cpu":
    params["threads"] = {"torch": int(torch_threads), "openblas": int(blas_threads)}
e = entry("lab1-lstm-step", args.device, params, r, {"value": args.batch * args.seq / (r["medianMs"] / 1000), "unit": "chars/s"})
if args.device == "cpu":
    e["impl"] = f"pytorch-cpu-t{torch_threads}b{blas_threads}"
report(f"lab1-lstm-step-pytorch-{args.device}", [e], args.out)
