"""PyTorch twin of bench/core-matmul.ts: square float32 matmuls.
    /usr/bin/python3 bench/reference/core_matmul.py [--device cpu|cuda] [--sizes 256,1024,2048] [--threads T:B] [--out FILE]
On the CPU it runs once per thread setting (threads.py) and keeps every entry; bench/compare takes the fastest.
"""
import argparse

from threads import parse_with_threads

p = argparse.ArgumentParser()
p.add_argument("--sizes", default="256,1024,2048")
args, torch_threads, blas_threads = parse_with_threads(p, "core-matmul")

import torch  # noqa: E402

from common import entry, measure, report  # noqa: E402

torch.backends.cuda.matmul.allow_tf32 = False
sync = torch.cuda.synchronize if args.device == "cuda" else None
impl = f"pytorch-cpu-t{torch_threads}b{blas_threads}" if args.device == "cpu" else "pytorch-cuda"
entries = []
for n in map(int, args.sizes.split(",")):
    a = torch.randn(n, n, device=args.device)
    b = torch.randn(n, n, device=args.device)
    r = measure(lambda: a @ b, warmup=2, repeats=3 if n >= 2048 else 5, sync=sync)
    e = entry(f"matmul-{n}", args.device, {"n": n, "dtype": "float32"}, r, {"value": 2 * n**3 / (r["medianMs"] / 1000) / 1e9, "unit": "GFLOP/s"})
    e["impl"] = impl
    entries.append(e)
report(f"core-matmul-pytorch-{args.device}", entries, args.out)
