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
