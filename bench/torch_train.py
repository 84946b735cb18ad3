"""The PyTorch side of bench/train_bench.sh: the same deepseek_v3 model as dseek trains (MLA,
DeepSeekMoE with noaux_tc routing, the MTP module, the sequence-wise balance loss), written the
way one writes it for speed in eager PyTorch (float32, each expert runs on the tokens routed to
it), the same AdamW / schedule / clipping / bias rule, on the same batches (dseek's batch
sampler is reproduced below), starting from the same weights.

    /usr/bin/python3 bench/torch_train.py --model CONFIG.json --weights model.safetensors \
        --tokens train.tokens --seq-len 128 --batch-size 8 --steps 10 --threads 2 [--train-json F]

Prints one JSON line: {"tokens_per_s": ..., "losses": [...], "seconds": [...]}.
"""

import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reference"))
sys.dont_write_bytecode = True
import safetensors_io  # noqa: E402

MASK64 = (1 << 64) - 1


class SplitMix64:
    """src/train/rng.h, bit for bit."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def mix_seed(seed, a, b=0, c=0):
    s = SplitMix64(seed ^ 0x5851F42D4C957F2D).next() ^ ((a * 0x9E3779B97F4A7C15) & MASK64)
    s = SplitMix64(s).next() ^ ((b * 0xC2B2AE3D27D4EB4F) & MASK64)
    return SplitMix64(s).next() ^ ((c * 0x165667B19E3779F9) & MASK64)


def sample_batch(data, seed, step, micro, n_seq, seq_len):
    span = len(data) - seq_len
    rows = []
    for s in range(n_seq):
        start = SplitMix64(mix_seed(seed, step, micro, s)).next() % span
        rows.append(data[start:start + seq_len + 1])
    return torch.from_numpy(np.stack(rows).astype(np.int64))


def read_tokens(path):
    with open(path, "rb") as f:
        blob = f.read()
    assert blob[:8] == b"DSKTOKS1"
    (count,) = struct.unpack("<Q", blob[16:24])
    return np.frombuffer(blob[24:24 + 4 * count], dtype="<u4").astype(np.int64)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_adjacent(x, cos, sin):
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)


class Model(torch.nn.Module):
    def __init__(self, c, alpha, lam):
        super().__init__()
        self.c, self.alpha, self.lam = c, alpha, lam
        self.p = torch.nn.ParameterDict()
        self.buffers_ = {}
        self.eps = c["rms_norm_eps"]

    def add(self, name, tensor):
        if name.endswith("e_score_correction_bias"):
            self.buffers_[name] = tensor.clone()
        else:
            self.p[name.replace(".", "__")] = torch.nn.Parameter(tensor.clone())

    def w(self, name):
        return self.p[name.replace(".", "__")]

    def linear(self, x, name):
        return x @ self.w(name + ".weight").t()

    def swiglu(self, x, prefix):
        return self.linear(torch.nn.functional.silu(self.linear(x, prefix + ".gate_proj")) *
                           self.linear(x, prefix + ".up_proj"), prefix + ".down_proj")

    def mla(self, x, prefix, b, t, cos, sin):
        c = self.c
        h, nope, rope, vd = c["num_attention_heads"], c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
        q = self.linear(rms_norm(self.linear(x, prefix + ".q_a_proj"), self.w(prefix + ".q_a_layernorm.weight"),
                                 self.eps), prefix + ".q_b_proj").view(b, t, h, nope + rope)
        kv_a = self.linear(x, prefix + ".kv_a_proj_with_mqa")
        latent = rms_norm(kv_a[..., :c["kv_lora_rank"]], self.w(prefix + ".kv_a_layernorm.weight"), self.eps)
        k_pe = rope_adjacent(kv_a[..., c["kv_lora_rank"]:], cos, sin)  # [b, t, rope]
        kv = self.linear(latent, prefix + ".kv_b_proj").view(b, t, h, nope + vd)
        q = torch.cat([q[..., :nope], rope_adjacent(q[..., nope:], cos[:, None], sin[:, None])], dim=-1)
        k = torch.cat([kv[..., :nope], k_pe[:, :, None, :].expand(b, t, h, rope)], dim=-1)
        v = kv[..., nope:]
        scores = torch.einsum("bthd,bshd->bhts", q, k) * (nope + rope) ** -0.5
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        probs = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
        out = torch.einsum("bhts,bshd->bthd", probs, v).reshape(b, t, h * vd)
        return self.linear(out, prefix + ".o_proj")

    def moe(self, x, prefix, b, t, counts):
        c = self.c
        n, k = c["n_routed_experts"], c["num_experts_per_tok"]
        flat = x.reshape(b * t, -1)
        scores = torch.sigmoid(self.linear(flat, prefix + ".gate"))
        with torch.no_grad():
            choice = scores + self.buffers_[prefix + ".gate.e_score_correction_bias"]
            groups = c["n_group"]
            if groups > 1:
                g = choice.view(b * t, groups, n // groups).topk(2, dim=-1).values.sum(-1)
                keep = g.topk(c["topk_group"], dim=-1).indices
                allowed = torch.zeros(b * t, groups, dtype=torch.bool).scatter(1, keep, True)
                choice = choice.masked_fill(~allowed.repeat_interleave(n // groups, dim=1), float("-inf"))
            idx = choice.topk(k, dim=-1).indices
        weights = scores.gather(1, idx)
        weights = weights / (weights.sum(-1, keepdim=True) + 1e-20) * c["routed_scaling_factor"]
        out = self.swiglu(flat, prefix + ".shared_experts")
        routed = torch.zeros_like(flat)
        for e in range(n):
            rows, slot = (idx == e).nonzero(as_tuple=True)
            if rows.numel() == 0:
                continue
            y = self.swiglu(flat.index_select(0, rows), f"{prefix}.experts.{e}") * weights[rows, slot, None]
            routed = routed.index_add(0, rows, y)
        counts[prefix] = counts.get(prefix, 0) + torch.bincount(idx.reshape(-1), minlength=n)
        balance = 0.0
        if self.alpha > 0:
            s = scores.view(b, t, n)
            f = torch.zeros(b, n).scatter_add(1, idx.view(b, t * k), torch.ones(b, t * k)) * (n / (k * t))
            p = (s / s.sum(-1, keepdim=True)).mean(1)
            balance = self.alpha * (f * p).sum(-1).mean()
        return (out + routed).view(b, t, -1), balance

    def layer(self, h, i, b, t, cos, sin, counts):
        c = self.c
        prefix = f"model.layers.{i}"
        h = h + self.mla(rms_norm(h, self.w(prefix + ".input_layernorm.weight"), self.eps), prefix + ".self_attn",
                         b, t, cos, sin)
        x = rms_norm(h, self.w(prefix + ".post_attention_layernorm.weight"), self.eps)
        if i >= c["first_k_dense_replace"]:
            y, bal = self.moe(x, prefix + ".mlp", b, t, counts)
            return h + y, bal
        return h + self.swiglu(x, prefix + ".mlp"), 0.0

    def forward(self, tokens, cos_sin, counts):
        c = self.c
        b, t1 = tokens.shape
        t = t1 - 1
        embed = self.w("model.embed_tokens.weight")
        head = self.w("lm_head.weight")
        cos, sin = cos_sin[t]
        h = embed[tokens[:, :t]]
        balance = 0.0
        for i in range(c["num_hidden_layers"]):
            h, bal = self.layer(h, i, b, t, cos, sin, counts)
            balance = balance + bal
        logits = rms_norm(h, self.w("model.norm.weight"), self.eps) @ head.t()
        main = torch.nn.functional.cross_entropy(logits.reshape(b * t, -1), tokens[:, 1:].reshape(-1))
        j = c["num_hidden_layers"]
        p = f"model.layers.{j}"
        e = rms_norm(embed[tokens[:, 1:t]], self.w(p + ".enorm.weight"), self.eps)
        hh = rms_norm(h[:, :t - 1], self.w(p + ".hnorm.weight"), self.eps)
        h2 = torch.cat([e, hh], dim=-1) @ self.w(p + ".eh_proj.weight").t()
        cos2, sin2 = cos_sin[t - 1]
        h2, bal = self.layer(h2, j, b, t - 1, cos2, sin2, counts)
        balance = balance + bal
        logits2 = rms_norm(h2, self.w(p + ".shared_head.norm.weight"), self.eps) @ head.t()
        mtp = torch.nn.functional.cross_entropy(logits2.reshape(b * (t - 1), -1), tokens[:, 2:].reshape(-1))
        return main + self.lam * mtp + balance


def rope_tables(c, t):
    dim = c["qk_rope_head_dim"]
    inv = 1.0 / c.get("rope_theta", 10000) ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    ang = torch.arange(t, dtype=torch.float64)[:, None] * inv[None]
    return torch.cos(ang).float(), torch.sin(ang).float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--train-json", help="dseek training config: optimizer settings")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.model) as f:
        c = json.load(f)
    assert c["model_type"] == "deepseek_v3" and c.get("q_lora_rank") and c.get("rope_scaling") is None
    t = json.load(open(args.train_json)) if args.train_json else {}
    lr, min_lr, warmup = t.get("lr", 3e-3), t.get("min_lr", 3e-4), t.get("warmup", 100)
    steps_total, seed = t.get("steps", args.steps), t.get("seed", 1234)
    model = Model(c, t.get("balance_alpha", 0.0001), t.get("mtp_lambda", 0.3))
    for name, stored in safetensors_io.load_file(args.weights).items():
        j = c["num_hidden_layers"]
        if name in (f"model.layers.{j}.embed_tokens.weight", f"model.layers.{j}.shared_head.head.weight"):
            continue
        model.add(name, safetensors_io.to_float32(stored))
    params = list(model.p.values())
    opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() == 2], "weight_decay": t.get("weight_decay", 0.1)},
                             {"params": [p for p in params if p.dim() != 2], "weight_decay": 0.0}],
                            lr=lr, betas=(t.get("beta1", 0.9), t.get("beta2", 0.95)), eps=t.get("eps", 1e-8))
    gamma, clip = t.get("bias_update_speed", 0.001), t.get("grad_clip", 1.0)
    data = read_tokens(args.tokens)
    cos_sin = {n: rope_tables(c, n) for n in (args.seq_len, args.seq_len - 1)}
    losses, seconds = [], []
    for step in range(args.steps):
        start = time.perf_counter()
        if step < warmup:
            rate = lr * (step + 1) / warmup
        else:
            progress = min(1.0, (step - warmup) / max(1, steps_total - warmup - 1))
            rate = min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * progress))
        for g in opt.param_groups:
            g["lr"] = rate
        opt.zero_grad()
        counts = {}
        batch = sample_batch(data, seed, step, 0, args.batch_size, args.seq_len)
        loss = model(batch, cos_sin, counts)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        with torch.no_grad():
            for prefix, cnt in counts.items():
                cnt = cnt.double()
                model.buffers_[prefix + ".gate.e_score_correction_bias"] += gamma * torch.sign(cnt.mean() - cnt).float()
        seconds.append(time.perf_counter() - start)
        losses.append(float(loss))
    tokens = args.batch_size * args.seq_len
    timed = seconds[2:] if len(seconds) > 3 else seconds
    print(json.dumps({"tokens_per_s": tokens * len(timed) / sum(timed), "losses": losses, "seconds": seconds}))


if __name__ == "__main__":
    main()
