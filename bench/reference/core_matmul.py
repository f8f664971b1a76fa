"""PyTorch twin of bench/core-matmul.ts: square float32 matmuls.
    /usr/bin/python3 bench/reference/core_matmul.py [--device cpu|cuda] [--sizes 256,1024,2048] [--threads T:B] [--out FILE]
On the CPU it runs once per thread setting (threads.py) and keeps every entry; bench/compare takes the fastest.
"""
import argparse
import os
import sys

from threads import run_thread_settings

p = argparse.ArgumentParser()
p.add_argument("--device", default="cpu")
p.add_argument("--sizes", default="256,1024,2048")
p.add_argument("--threads")
p.add_argument("--out")
args = p.parse_args()
if args.device == "cpu" and args.threads is None:
    run_thread_settings("core-matmul-pytorch-cpu", args.out)
    sys.exit(0)
torch_threads, blas_threads = (args.threads or "0:0").split(":")
if args.device == "cpu":
    os.environ["OPENBLAS_NUM_THREADS"] = blas_threads

import torch  # noqa: E402

from common import entry, measure, report  # noqa: E402

if args.device == "cpu":
    torch.set_num_threads(int(torch_threads))
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
