"""PyTorch twin of bench/lab3-laptop.ts: Lab 3 at the size students train on a laptop, in plain
PyTorch (no PEFT, no transformers), random weights, the CPU.
- shapes: SmolLM2-135M (llama: hidden 576, 30 layers, 9 heads / 3 KV, SwiGLU 1536, vocab 49152,
  tied) and Qwen3-0.6B (hidden 1024, 28 layers, 16 heads / 8 KV, head dim 128, q/k RMSNorm, SwiGLU
  3072, vocab 151936, tied);
- lora-step: LoRA r=8 (alpha 16) on q, k, v, o, gate, up, down, frozen float32 base weights, one Lion
  step (lr 1e-4) on a [1, seq] sequence (default 256), loss on every token;
- generate: greedy decoding with a KV cache, 64 new tokens after a 32-token prompt, batch 1.
Peak memory is the process's maximum resident set size (one process per shape and workload).
    /usr/bin/python3 bench/reference/lab3_laptop.py --shape smollm2-135m --workload lora-step [--threads T:B]
Writes bench/results/lab3-laptop-<shape>-<workload>-pytorch-cpu.json (both thread settings by default).
"""
import argparse
import math

from threads import parse_with_threads

SHAPES = {
    "smollm2-135m": dict(vocab=49152, hidden=576, inter=1536, layers=30, heads=9, kv=3, head_dim=64, theta=100000.0, eps=1e-5, qk_norm=False),
    "qwen3-0.6b": dict(vocab=151936, hidden=1024, inter=3072, layers=28, heads=16, kv=8, head_dim=128, theta=1000000.0, eps=1e-6, qk_norm=True),
}

p = argparse.ArgumentParser()
p.add_argument("--shape", choices=sorted(SHAPES), default="smollm2-135m")
p.add_argument("--workload", choices=["lora-step", "generate"], default="lora-step")
p.add_argument("--seq", type=int, default=256)
p.add_argument("--new-tokens", type=int, default=64)
p.add_argument("--repeats", type=int, default=3)
known, _ = p.parse_known_args()
args, torch_threads, blas_threads = parse_with_threads(p, f"lab3-laptop-{known.shape}-{known.workload}")

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from common import entry, measure, report  # noqa: E402
from lab3_parts import Lion, rms_norm, rope  # noqa: E402

torch.manual_seed(1)
S = SHAPES[args.shape]
RANK, ALPHA = 8, 16


class LoraLinear(nn.Module):
    """A frozen weight plus a trainable low-rank update: x·Wᵀ + (x·Aᵀ)·Bᵀ·(alpha/r)."""

    def __init__(self, fan_in, fan_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(fan_out, fan_in).uniform_(-1, 1) * math.sqrt(3 / fan_in), requires_grad=False)
        self.a = nn.Parameter(torch.empty(RANK, fan_in).uniform_(-1, 1) / math.sqrt(fan_in))
        self.b = nn.Parameter(torch.zeros(fan_out, RANK))

    def forward(self, x):
        return F.linear(x, self.weight) + F.linear(F.linear(x, self.a), self.b) * (ALPHA / RANK)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        h, d = S["hidden"], S["head_dim"]
        self.q = LoraLinear(h, S["heads"] * d)
        self.k = LoraLinear(h, S["kv"] * d)
        self.v = LoraLinear(h, S["kv"] * d)
        self.o = LoraLinear(S["heads"] * d, h)
        self.gate = LoraLinear(h, S["inter"])
        self.up = LoraLinear(h, S["inter"])
        self.down = LoraLinear(S["inter"], h)
        self.norm1 = nn.Parameter(torch.ones(h), requires_grad=False)
        self.norm2 = nn.Parameter(torch.ones(h), requires_grad=False)
        self.q_norm = nn.Parameter(torch.ones(d), requires_grad=False)
        self.k_norm = nn.Parameter(torch.ones(d), requires_grad=False)

    def forward(self, x, cos, sin, cache=None):
        b, t, _ = x.shape
        d, eps = S["head_dim"], S["eps"]
        h = rms_norm(x, self.norm1, eps)
        q = self.q(h).view(b, t, S["heads"], d)
        k = self.k(h).view(b, t, S["kv"], d)
        v = self.v(h).view(b, t, S["kv"], d).transpose(1, 2)
        if S["qk_norm"]:
            q, k = rms_norm(q, self.q_norm, eps), rms_norm(k, self.k_norm, eps)
        q, k = rope(q.transpose(1, 2), cos, sin), rope(k.transpose(1, 2), cos, sin)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        rep = S["heads"] // S["kv"]
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d)
        if t > 1:
            s = k.shape[2]
            mask = torch.ones(t, s, dtype=torch.bool).triu(s - t + 1)
            scores = scores.masked_fill(mask, float("-inf"))
        a = scores.softmax(-1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(b, t, S["heads"] * d))
        h = rms_norm(x, self.norm2, eps)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Parameter(torch.empty(S["vocab"], S["hidden"]).uniform_(-1, 1) * 0.02 * math.sqrt(3), requires_grad=False)
        self.blocks = nn.ModuleList(Block() for _ in range(S["layers"]))
        self.norm = nn.Parameter(torch.ones(S["hidden"]), requires_grad=False)
        d = S["head_dim"]
        self.inv = 1.0 / (S["theta"] ** (torch.arange(0, d, 2).float() / d))

    def forward(self, ids, caches=None, start=0, last_only=False):
        t = ids.shape[1]
        freqs = torch.outer(torch.arange(start, start + t).float(), self.inv)
        cos = torch.cat([freqs.cos(), freqs.cos()], -1)
        sin = torch.cat([freqs.sin(), freqs.sin()], -1)
        x = self.embed[ids]
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, None if caches is None else caches[i])
        if last_only:
            x = x[:, -1:]
        return rms_norm(x, self.norm, S["eps"]) @ self.embed.T  # tied embeddings


model = Model()
params = dict(shape=args.shape, torchThreads=int(torch_threads), blasThreads=int(blas_threads),
              parameters=sum(p.numel() for p in model.parameters()))
name = f"lab3-laptop-{args.shape}-{args.workload}"

if args.workload == "lora-step":
    trainable = [q for q in model.parameters() if q.requires_grad]
    opt = Lion(trainable, lr=1e-4)
    ids = (torch.arange(args.seq) * 31 % S["vocab"]).unsqueeze(0)

    def step():
        opt.zero_grad()
        logits = model(ids)
        loss = F.cross_entropy(logits[0, :-1], ids[0, 1:])
        loss.backward()
        opt.step()
        return loss.item()

    result = measure(step, warmup=1, repeats=args.repeats)
    tokens = args.seq - 1
    e = entry("lab3-lora-step", "cpu", {**params, "seq": args.seq, "rank": RANK, "targets": "all"}, result,
              {"value": tokens / (result["medianMs"] / 1000), "unit": "tokens/s"})
else:
    prompt = (torch.arange(32) * 97 % S["vocab"]).unsqueeze(0)
    timing = {}

    @torch.no_grad()
    def gen():
        import time
        caches = [dict() for _ in range(S["layers"])]
        logits = model(prompt, caches, 0, last_only=True)
        nxt = logits[0, -1].argmax().view(1, 1)
        t0 = time.perf_counter()
        for i in range(args.new_tokens - 1):
            logits = model(nxt, caches, prompt.shape[1] + i, last_only=True)
            nxt = logits[0, -1].argmax().view(1, 1)
        timing["tps"] = (args.new_tokens - 1) / (time.perf_counter() - t0)

    result = measure(gen, warmup=1, repeats=args.repeats)
    e = entry("lab3-generate", "cpu", {**params, "prompt": 32, "newTokens": args.new_tokens}, result,
              {"value": timing["tps"], "unit": "tokens/s"})

report(name, [e], args.out)
