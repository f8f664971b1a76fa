"""PyTorch twin of bench/core-matmul.ts: square float32 matmuls.
    python3 bench/reference/core_matmul.py [--device cpu|cuda] [--sizes 256,1024,2048] [--out FILE]
"""
import argparse

import torch

from common import entry, measure, report, setup_threads

p = argparse.ArgumentParser()
p.add_argument("--device", default="cpu")
p.add_argument("--sizes", default="256,1024,2048")
p.add_argument("--out")
args = p.parse_args()
setup_threads()
torch.backends.cuda.matmul.allow_tf32 = False
sync = torch.cuda.synchronize if args.device == "cuda" else None
entries = []
for n in map(int, args.sizes.split(",")):
    a = torch.randn(n, n, device=args.device)
    b = torch.randn(n, n, device=args.device)
    r = measure(lambda: a @ b, warmup=2, repeats=3 if n >= 2048 else 5, sync=sync)
    entries.append(entry(f"matmul-{n}", args.device, {"n": n, "dtype": "float32"}, r, {"value": 2 * n**3 / (r["medianMs"] / 1000) / 1e9, "unit": "GFLOP/s"}))
report(f"core-matmul-pytorch-{args.device}", entries, args.out)
