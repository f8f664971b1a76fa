"""Shared helpers for the PyTorch reference benchmarks: the same JSON shape as bench/lib/harness.ts."""
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone

# OpenBLAS reads its thread count when torch loads it: set it before the import, or it is ignored.
# torch threads x OpenBLAS threads must not exceed the cores (the engine notes: 2x slower otherwise).
# One torch thread and OpenBLAS on every core measured fastest here (2.25 ms against 20 ms with two
# torch threads and one OpenBLAS thread for the MLP step); threads.py tries both for the Lab 1 twins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(os.cpu_count() or 1))

import torch  # noqa: E402


def setup_threads():
    """torch threads x OpenBLAS threads must not exceed the cores (the engine notes: 2x slower otherwise)."""
    cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores // int(os.environ["OPENBLAS_NUM_THREADS"])))
    return cores


def device_name(device):
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    return platform.processor() or platform.machine()


def peak_rss_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(fn, warmup=2, repeats=5, sync=None):
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        samples.append((time.perf_counter() - t0) * 1000)
    return {
        "samplesMs": samples,
        "medianMs": statistics.median(samples),
        "minMs": min(samples),
        "maxMs": max(samples),
    }


def entry(workload, device, params, result, throughput=None):
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else peak_rss_mb()
    e = {
        "workload": workload,
        "impl": f"pytorch-{device}",
        "backend": f"pytorch-{device}",
        "device": device_name(device),
        "params": params,
        **result,
        "peakMemoryMB": peak,
    }
    if throughput:
        e["throughput"] = throughput
    return e


def report(name, entries, out=None):
    here = os.path.dirname(os.path.abspath(__file__))
    target = out or os.path.join(here, "..", "results", f"{name}.json")
    data = {
        "suite": "introdl-bench",
        "name": name,
        "createdAt": datetime.now(timezone.utc).isoformat(),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "platform": sys.platform},
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "entries": entries,
    }
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as f:
        json.dump(data, f, indent=2)
    for e in entries:
        tp = f"  {e['throughput']['value']:.1f} {e['throughput']['unit']}" if "throughput" in e else ""
        print(f"{e['workload']:<16} {e['impl']:<14} median {e['medianMs']:9.2f} ms  min {e['minMs']:9.2f}  max {e['maxMs']:9.2f}{tp}")
    print(f"\nwrote {os.path.relpath(target)}")
