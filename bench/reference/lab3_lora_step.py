"""PyTorch twin of bench/lab3-lora-step.ts's training step: a Llama-family decoder of stories260K's
shape (vocab 512, hidden 64, 5 layers, 8 heads, 4 KV heads, head dim 8, SwiGLU 172, RMSNorm, RoPE
theta 10000, tied embeddings) with random frozen weights and LoRA r=8 (alpha 8) on all seven
projections, one Lion step (lr 1e-4, betas 0.9/0.99) on a [1, seq] sequence, loss on every token.
    python3 bench/reference/lab3_lora_step.py [--device cpu|cuda] [--seq 512] [--repeats 10] [--threads T:B] [--out FILE]
Writes bench/results/lab3-lora-step-pytorch-<device>.json.
"""
import argparse
import math

from threads import parse_with_threads

p = argparse.ArgumentParser()
p.add_argument("--seq", type=int, default=512)
p.add_argument("--repeats", type=int, default=10)
args, torch_threads, blas_threads = parse_with_threads(p, "lab3-lora-step")

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from common import entry, measure, report  # noqa: E402
from lab3_parts import Lion, rms_norm, rope  # noqa: E402

torch.manual_seed(1)
VOCAB, HIDDEN, INTER, LAYERS, HEADS, KV, HEAD_DIM, RANK = 512, 64, 172, 5, 8, 4, 8, 8


class LoraLinear(nn.Module):
    """A frozen weight plus a trainable low-rank update: x·Wᵀ + (x·Aᵀ)·Bᵀ·(alpha/r)."""

    def __init__(self, fan_in, fan_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fan_out, fan_in) * 0.02, requires_grad=False)
        self.a = nn.Parameter(torch.randn(RANK, fan_in) / math.sqrt(fan_in))
        self.b = nn.Parameter(torch.zeros(fan_out, RANK))

    def forward(self, x):
        return F.linear(x, self.weight) + F.linear(F.linear(x, self.a), self.b)


def causal_attention(q, k, v):
    # PyTorch 2's fused kernel where it exists (Debian's 1.13 lacks it): the same causal softmax attention.
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    t = q.shape[-2]
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    mask = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
    return scores.masked_fill(mask, float("-inf")).softmax(-1) @ v


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = LoraLinear(HIDDEN, HEADS * HEAD_DIM)
        self.k = LoraLinear(HIDDEN, KV * HEAD_DIM)
        self.v = LoraLinear(HIDDEN, KV * HEAD_DIM)
        self.o = LoraLinear(HEADS * HEAD_DIM, HIDDEN)
        self.gate = LoraLinear(HIDDEN, INTER)
        self.up = LoraLinear(HIDDEN, INTER)
        self.down = LoraLinear(INTER, HIDDEN)
        self.norm1 = nn.Parameter(torch.ones(HIDDEN), requires_grad=False)
        self.norm2 = nn.Parameter(torch.ones(HIDDEN), requires_grad=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        h = rms_norm(x, self.norm1)
        q = self.q(h).view(b, t, HEADS, HEAD_DIM).transpose(1, 2)
        k = self.k(h).view(b, t, KV, HEAD_DIM).transpose(1, 2)
        v = self.v(h).view(b, t, KV, HEAD_DIM).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        k = k.repeat_interleave(HEADS // KV, dim=1)
        v = v.repeat_interleave(HEADS // KV, dim=1)
        a = causal_attention(q, k, v)
        x = x + self.o(a.transpose(1, 2).reshape(b, t, HEADS * HEAD_DIM))
        h = rms_norm(x, self.norm2)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Parameter(torch.randn(VOCAB, HIDDEN) * 0.02, requires_grad=False)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = nn.Parameter(torch.ones(HIDDEN), requires_grad=False)

    def forward(self, ids):
        t = ids.shape[1]
        inv = 1.0 / (10000 ** (torch.arange(0, HEAD_DIM, 2, device=ids.device).float() / HEAD_DIM))
        freqs = torch.outer(torch.arange(t, device=ids.device).float(), inv)
        cos = torch.cat([freqs.cos(), freqs.cos()], -1)
        sin = torch.cat([freqs.sin(), freqs.sin()], -1)
        x = self.embed[ids]
        for block in self.blocks:
            x = block(x, cos, sin)
        return rms_norm(x, self.norm) @ self.embed.T  # tied embeddings


model = Model().to(args.device)
trainable = [q for q in model.parameters() if q.requires_grad]
opt = Lion(trainable, lr=1e-4)
ids = (torch.arange(args.seq, device=args.device) * 31 % VOCAB).unsqueeze(0)


def step():
    opt.zero_grad()
    logits = model(ids)
    loss = F.cross_entropy(logits[0, :-1], ids[0, 1:])
    loss.backward()
    opt.step()
    return loss.item()


sync = torch.cuda.synchronize if args.device == "cuda" else None
r = measure(step, warmup=2, repeats=args.repeats, sync=sync)
params = {"config": "stories260k", "seq": args.seq, "batch": 1, "rank": RANK, "targets": "all", "optimizer": "lion",
          "trainable": sum(q.numel() for q in trainable)}
if args.device == "cpu":
    params["threads"] = {"torch": int(torch_threads), "openblas": int(blas_threads)}
e = entry("lab3-lora-step", args.device, params, r, {"value": args.seq / (r["medianMs"] / 1000), "unit": "tokens/s"})
if args.device == "cpu":
    e["impl"] = f"pytorch-cpu-t{torch_threads}b{blas_threads}"
report(f"lab3-lora-step-pytorch-{args.device}", [e], args.out)
