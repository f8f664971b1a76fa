"""PyTorch twin of bench/inference-runtimes.ts's lab2-detect: the course's standard face classifier
(seeded weights, eval mode) over every sliding window of a 512x512 photo (8 sizes from 0.12 to 1 of
the shorter side, stride 0.2 of the window), each window cropped and resized to 64x64 bilinearly,
batches of 128, P(face) = sigmoid(logit). Reports windows per second.
    /usr/bin/python3 bench/reference/lab2_detect.py [--photo astronaut.png] [--threads T:B]
Writes bench/results/lab2-detect-pytorch-cpu.json (one entry per CPU thread setting).
"""
import argparse
import os

from threads import parse_with_threads

p = argparse.ArgumentParser()
p.add_argument("--photo", default=None)
p.add_argument("--repeats", type=int, default=3)
args, torch_threads, blas_threads = parse_with_threads(p, "lab2-detect")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from common import entry, measure, report  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
data = os.environ.get("INTRODL_DATA", os.path.join(here, "..", "..", "..", "shared", "data"))
photo = args.photo or os.path.join(data, "lab2-faces", "nonface-cc0", "astronaut.png")
try:
    from PIL import Image

    image = np.asarray(Image.open(photo).convert("RGB"), dtype=np.float32) / 255
except ImportError:  # Debian's python3-skimage reads PNGs too
    from skimage import io

    image = io.imread(photo)[..., :3].astype(np.float32) / 255
H, W = image.shape[:2]
x_full = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0)  # [1, 3, H, W]

torch.manual_seed(1)
f = 12


def block(cin, cout, k):
    return [nn.Conv2d(cin, cout, k, stride=2, padding=k // 2), nn.ReLU(), nn.BatchNorm2d(cout)]


model = nn.Sequential(
    *block(3, f, 5), *block(f, 2 * f, 5), *block(2 * f, 4 * f, 3), *block(4 * f, 6 * f, 3),
    nn.Flatten(), nn.Linear(4 * 4 * 6 * f, 512), nn.ReLU(), nn.Linear(512, 1),
).eval()


def windows():
    short = min(W, H)
    sizes = sorted({max(8, round(0.12 * (1 / 0.12) ** (k / 7) * short)) for k in range(8)})
    out = []
    for s in sizes:
        stride = max(1, round(0.2 * s))
        for y in range(0, H - s + 1, stride):
            for x in range(0, W - s + 1, stride):
                out.append((x, y, s))
    return out


boxes = windows()


@torch.no_grad()
def detect():
    scores = []
    for start in range(0, len(boxes), 128):
        crops = [
            F.interpolate(x_full[:, :, y : y + s, x : x + s], size=(64, 64), mode="bilinear", align_corners=False)
            for (x, y, s) in boxes[start : start + 128]
        ]
        scores.append(torch.sigmoid(model(torch.cat(crops))))
    return torch.cat(scores)


r = measure(detect, warmup=1, repeats=args.repeats)
params = {"photo": os.path.basename(photo), "width": W, "height": H, "windows": len(boxes)}
params["loadAverage"] = os.getloadavg()[0]
params["threads"] = {"torch": int(torch_threads), "openblas": int(blas_threads)}
e = entry("lab2-detect", "cpu", params, r, {"value": len(boxes) / (r["medianMs"] / 1000), "unit": "windows/s"})
e["impl"] = f"pytorch-cpu-t{torch_threads}b{blas_threads}"
report("lab2-detect-pytorch-cpu", [e], args.out)
