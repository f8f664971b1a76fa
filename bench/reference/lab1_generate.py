"""PyTorch twin of bench/lab1-generate.ts: Lab 1's model (Embedding 256 -> LSTM 1024 -> Dense 83)
generating 1000 characters one at a time, batch 1, carrying the LSTM state, sampling from the
softmax, as the course's generate_text does. Reports characters per second.
    /usr/bin/python3 bench/reference/lab1_generate.py [--device cpu|cuda] [--length 1000] [--threads T:B]
Writes bench/results/lab1-generate-pytorch-<device>.json (on the CPU, one entry per thread setting).
"""
import argparse
import os
import statistics
import time

from threads import parse_with_threads

p = argparse.ArgumentParser()
p.add_argument("--length", type=int, default=1000)
p.add_argument("--units", type=int, default=1024)
p.add_argument("--repeats", type=int, default=3)
args, torch_threads, blas_threads = parse_with_threads(p, "lab1-generate")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from common import entry, measure, report  # noqa: E402

torch.manual_seed(1)
VOCAB, EMBED = 83, 256
embedding = nn.Embedding(VOCAB, EMBED).to(args.device)
lstm = nn.LSTM(EMBED, args.units, batch_first=True).to(args.device)
dense = nn.Linear(args.units, VOCAB).to(args.device)


@torch.no_grad()
def generate():
    ids = torch.tensor([[5]], device=args.device)
    state = None
    out = []
    for _ in range(args.length):
        h, state = lstm(embedding(ids), state)
        probs = torch.softmax(dense(h[:, -1]), dim=-1)
        ids = torch.multinomial(probs, 1)
        out.append(int(ids))
    return out


cpu_ms = []


def timed():
    # Process CPU time (all threads together): on a shared, loaded machine it shows the work's own cost.
    start = time.process_time()
    generate()
    cpu_ms.append((time.process_time() - start) * 1000)


sync = torch.cuda.synchronize if args.device == "cuda" else None
r = measure(timed, warmup=1, repeats=args.repeats, sync=sync)
params = {"length": args.length, "batch": 1, "units": args.units, "stateful": True}
params["loadAverage"] = os.getloadavg()[0]
params["cpuMsMedian"] = statistics.median(cpu_ms)
if args.device == "cpu":
    params["threads"] = {"torch": int(torch_threads), "openblas": int(blas_threads)}
e = entry("lab1-generate", args.device, params, r, {"value": args.length / (r["medianMs"] / 1000), "unit": "chars/s"})
if args.device == "cpu":
    e["impl"] = f"pytorch-cpu-t{torch_threads}b{blas_threads}"
report(f"lab1-generate-pytorch-{args.device}", [e], args.out)
