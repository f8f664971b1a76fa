"""PyTorch twin of bench/inference-runtimes.ts's lab3-generate: greedy decoding with a KV cache,
128 new tokens after a 5-token prompt, batch 1, on stories260K (read from llama2.c's stories260K.bin
in INTRODL_DATA/lab3-llm) and on a random model of stories15M's width (dim 288, 6 layers, 6 heads,
hidden 768, the fixture's 320-token vocabulary). Reports tokens per second.
    /usr/bin/python3 bench/reference/lab3_generate.py [--tokens 128] [--threads T:B]
Writes bench/results/lab3-generate-pytorch-cpu.json (one entry per CPU thread setting).
"""
import argparse
import os
import struct

from threads import parse_with_threads

p = argparse.ArgumentParser()
p.add_argument("--tokens", type=int, default=128)
p.add_argument("--repeats", type=int, default=3)
args, torch_threads, blas_threads = parse_with_threads(p, "lab3-generate")

import torch  # noqa: E402

from common import entry, measure, report  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
data = os.environ.get("INTRODL_DATA", os.path.join(here, "..", "..", "..", "shared", "data"))


def read_llama2c(path):
    """llama2.c version 0: 7 int32 then float32 weights, each kind for all layers in a row."""
    with open(path, "rb") as f:
        dim, hidden, layers, heads, kv_heads, vocab, seq = struct.unpack("7i", f.read(28))
        raw = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    vocab = abs(vocab)
    hs = dim // heads
    at = 0

    def take(*shape):
        nonlocal at
        n = 1
        for s in shape:
            n *= s
        t = raw[at : at + n].view(*shape)
        at += n
        return t

    w = {"emb": take(vocab, dim), "attn_norm": take(layers, dim), "wq": take(layers, dim, dim)}
    w["wk"] = take(layers, kv_heads * hs, dim)
    w["wv"] = take(layers, kv_heads * hs, dim)
    w["wo"] = take(layers, dim, dim)
    w["ffn_norm"] = take(layers, dim)
    w["w1"] = take(layers, hidden, dim)
    w["w2"] = take(layers, dim, hidden)
    w["w3"] = take(layers, hidden, dim)
    w["norm"] = take(dim)
    return dict(dim=dim, layers=layers, heads=heads, kv_heads=kv_heads, vocab=vocab, seq=seq), w


def random_model(dim=288, hidden=768, layers=6, heads=6, vocab=320):
    g = torch.Generator().manual_seed(1)
    r = lambda *s: torch.randn(*s, generator=g) * 0.05  # noqa: E731
    w = {"emb": r(vocab, dim), "attn_norm": torch.ones(layers, dim), "wq": r(layers, dim, dim)}
    w.update(wk=r(layers, dim, dim), wv=r(layers, dim, dim), wo=r(layers, dim, dim), ffn_norm=torch.ones(layers, dim))
    w.update(w1=r(layers, hidden, dim), w2=r(layers, dim, hidden), w3=r(layers, hidden, dim), norm=torch.ones(dim))
    return dict(dim=dim, layers=layers, heads=heads, kv_heads=heads, vocab=vocab, seq=256), w


def rmsnorm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


@torch.no_grad()
def generate(cfg, w, prompt, n):
    dim, heads, kv = cfg["dim"], cfg["heads"], cfg["kv_heads"]
    hs = dim // heads
    inv = 1.0 / (10000 ** (torch.arange(0, hs, 2).float() / hs))
    cache = [[None, None] for _ in range(cfg["layers"])]
    ids, pos, out = torch.tensor(prompt), 0, []
    for _ in range(n):
        T = len(ids)
        x = w["emb"][ids]
        ang = torch.outer(torch.arange(pos, pos + T).float(), inv)
        cos, sin = ang.cos(), ang.sin()

        def rope(t):  # interleaved pairs, as run.c
            a, b = t[..., 0::2], t[..., 1::2]
            return torch.stack((a * cos[:, None] - b * sin[:, None], a * sin[:, None] + b * cos[:, None]), -1).flatten(-2)

        for l in range(cfg["layers"]):
            h = rmsnorm(x, w["attn_norm"][l])
            q = rope((h @ w["wq"][l].T).view(T, heads, hs))
            k = rope((h @ w["wk"][l].T).view(T, kv, hs))
            v = (h @ w["wv"][l].T).view(T, kv, hs)
            if cache[l][0] is not None:
                k, v = torch.cat([cache[l][0], k]), torch.cat([cache[l][1], v])
            cache[l] = [k, v]
            rep = heads // kv
            kk, vv = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            att = torch.einsum("thd,shd->hts", q, kk) / hs**0.5
            S = kk.shape[0]
            mask = torch.arange(S)[None, :] > (torch.arange(T)[:, None] + S - T)
            att = att.masked_fill(mask, float("-inf")).softmax(-1)
            x = x + torch.einsum("hts,shd->thd", att, vv).reshape(T, dim) @ w["wo"][l].T
            h = rmsnorm(x, w["ffn_norm"][l])
            x = x + (torch.nn.functional.silu(h @ w["w1"][l].T) * (h @ w["w3"][l].T)) @ w["w2"][l].T
        logits = rmsnorm(x[-1], w["norm"]) @ w["emb"].T
        nxt = int(logits.argmax())
        out.append(nxt)
        pos += T
        ids = torch.tensor([nxt])
    return out


models = []
stories = os.path.join(data, "lab3-llm", "stories260K.bin")
if os.path.exists(stories):
    models.append(("stories260K", *read_llama2c(stories)))
models.append(("llama-288x6", *random_model()))
prompt = [1, 403, 407, 261, 378]  # "Once upon a time" in tok512
entries = []
for label, cfg, w in models:
    ids = [t % cfg["vocab"] for t in prompt]
    r = measure(lambda: generate(cfg, w, ids, args.tokens), warmup=1, repeats=args.repeats)
    params = {"model": label, "newTokens": args.tokens, "promptTokens": len(prompt), "loadAverage": os.getloadavg()[0]}
    params["threads"] = {"torch": int(torch_threads), "openblas": int(blas_threads)}
    e = entry(f"lab3-generate-{label}", "cpu", params, r, {"value": args.tokens / (r["medianMs"] / 1000), "unit": "tokens/s"})
    e["impl"] = f"pytorch-cpu-t{torch_threads}b{blas_threads}"
    entries.append(e)
report("lab3-generate-pytorch-cpu", entries, args.out)
