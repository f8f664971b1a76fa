"""Runs a reference benchmark once per CPU thread setting and merges the results into one file.

OpenBLAS reads its thread count when torch is imported, so each setting (torch threads T, OpenBLAS
threads B, T x B <= cores as the engine notes ask) needs its own process. The caller re-runs itself
with `--threads T:B --out FILE`; bench/compare then uses the fastest entry of the merged file.
"""
import json
import os
import subprocess
import sys
import tempfile

SETTINGS = ("2:1", "1:2")


def run_thread_settings(name, out=None):
    entries = []
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for setting in SETTINGS:
            part = os.path.join(tmp, f"{setting.replace(':', '-')}.json")
            subprocess.run([sys.executable, *sys.argv, "--threads", setting, "--out", part], check=True)
            with open(part) as f:
                data = json.load(f)
            base = base or data
            entries.extend(data["entries"])
    base["name"] = name
    base["entries"] = entries
    here = os.path.dirname(os.path.abspath(__file__))
    target = out or os.path.join(here, "..", "results", f"{name}.json")
    tmp_target = f"{target}.tmp"
    with open(tmp_target, "w") as f:
        json.dump(base, f, indent=2)
    os.replace(tmp_target, target)
    print(f"\nmerged {len(entries)} settings into {os.path.relpath(target)}")


def parse_with_threads(parser, name):
    """Adds --device, --threads T:B and --out to `parser` and parses. On the CPU without --threads it
    runs the script once per setting (run_thread_settings) and exits; with --threads it sets OpenBLAS's
    thread count before torch is imported, then torch's. Returns (args, torch_threads, blas_threads)."""
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.device == "cpu" and args.threads is None:
        run_thread_settings(f"{name}-pytorch-cpu", args.out)
        sys.exit(0)
    torch_threads, blas_threads = (args.threads or "0:0").split(":")
    if args.device == "cpu":
        os.environ["OPENBLAS_NUM_THREADS"] = blas_threads
        import torch

        torch.set_num_threads(int(torch_threads))
    return args, torch_threads, blas_threads
