"""dseek's reference forward pass: float64, full causal attention, no KV cache.

Written from the papers and the config semantics of the Hugging Face modeling code of each
family (DeepSeek facts: /work/shared/REFERENCE-FACTS.md, the design notes). Families:
deepseek_v2, deepseek_v3 (MLA + DeepSeekMoE; the V3 MTP layer is loaded and not used for
logits), llama and qwen2 (GQA + SwiGLU).

Every op is a differentiable torch op (no in-place updates, no numpy), so autograd can be run
through `forward` for training checks.

    config, weights = load("tests/data/models/deepseek-v2-tiny")
    logits = forward(config, weights, [382, 5, 17])   # [3, vocab] float64
"""

import json
import math
import os

import torch

import safetensors_io

DEEPSEEK_FAMILIES = ("deepseek_v2", "deepseek_v3")
DENSE_FAMILIES = ("llama", "qwen2")


# ---------------------------------------------------------------------------------------------
# Loading

def dequantize_fp8_blocks(codes_f32, scale_inv, block):
    """w = float32(fp8 code value) * float32(scale_inv of its block), product in float32.
    scale_inv has shape [ceil(out/bo), ceil(in/bi)]; edge blocks are partial."""
    out_dim, in_dim = codes_f32.shape
    bo, bi = block
    expected = [math.ceil(out_dim / bo), math.ceil(in_dim / bi)]
    if list(scale_inv.shape) != expected:
        raise ValueError(f"scale_inv shape {list(scale_inv.shape)}, expected {expected}")
    scale = scale_inv.repeat_interleave(bo, dim=0).repeat_interleave(bi, dim=1)[:out_dim, :in_dim]
    return codes_f32 * scale.to(torch.float32)


def load(folder):
    """-> (config dict, dict name -> float64 tensor). BF16/F16/F32 are widened exactly; F8_E4M3
    weights are dequantized with their `<name>_scale_inv` (the *_scale_inv entries are consumed)."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    stored = safetensors_io.load_folder(folder)
    block = (config.get("quantization_config") or {}).get("weight_block_size", [128, 128])
    weights = {}
    for name, t in stored.items():
        if name.endswith("_scale_inv"):
            if name[: -len("_scale_inv")] not in stored:
                raise ValueError(f"{folder}: {name} has no weight")
            continue
        values = safetensors_io.to_float32(t)
        if t.dtype == "F8_E4M3":
            scale_name = name + "_scale_inv"
            if scale_name not in stored:
                raise ValueError(f"{folder}: FP8 tensor {name} has no {scale_name}")
            values = dequantize_fp8_blocks(values, safetensors_io.to_float32(stored[scale_name]), block)
        weights[name] = values.to(torch.float64)
    return config, weights


# ---------------------------------------------------------------------------------------------
# Small blocks

def rms_norm(x, weight, eps):
    """x * rsqrt(mean(x^2) + eps) * w over the last dimension."""
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * weight


def linear(x, weights, prefix):
    """x @ W^T (+ b when the checkpoint has `prefix.bias`); W is [out, in]."""
    y = x @ weights[prefix + ".weight"].t()
    bias = weights.get(prefix + ".bias")
    return y if bias is None else y + bias


def swiglu(x, weights, prefix):
    """down(silu(gate(x)) * up(x))."""
    gate = linear(x, weights, prefix + ".gate_proj")
    up = linear(x, weights, prefix + ".up_proj")
    return linear(torch.nn.functional.silu(gate) * up, weights, prefix + ".down_proj")


def causal_softmax(scores):
    """Softmax over the last axis of [..., T, T] with keys after the query masked out."""
    t = scores.shape[-1]
    future = torch.ones(t, t, dtype=torch.bool).triu(diagonal=1)
    return torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)


# ---------------------------------------------------------------------------------------------
# RoPE tables

def _rope_type(config):
    scaling = config.get("rope_scaling") or {}
    return scaling.get("rope_type", scaling.get("type")), scaling


def yarn_get_mscale(scale, mscale):
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def deepseek_inv_freq(config):
    """Inverse frequencies of the qk_rope_head_dim rotary dims and the cos/sin magnitude
    (HF DeepseekV2YarnRotaryEmbedding when rope_scaling is yarn)."""
    dim = config["qk_rope_head_dim"]
    base = float(config.get("rope_theta", 10000))
    freq_extra = 1.0 / base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    kind, scaling = _rope_type(config)
    if kind is None:
        return freq_extra, 1.0
    if kind != "yarn":
        raise ValueError(f"unsupported rope_scaling type {kind!r} for {config['model_type']}")
    factor = float(scaling["factor"])
    orig = float(scaling["original_max_position_embeddings"])
    beta_fast = float(scaling.get("beta_fast", 32))
    beta_slow = float(scaling.get("beta_slow", 1))
    mscale = float(scaling.get("mscale", 1))
    mscale_all_dim = float(scaling.get("mscale_all_dim", 0))

    def correction_dim(rotations):
        return dim * math.log(orig / (rotations * 2 * math.pi)) / (2 * math.log(base))

    low = max(math.floor(correction_dim(beta_fast)), 0)
    high = min(math.ceil(correction_dim(beta_slow)), dim - 1)
    if low == high:
        high += 0.001
    ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
    extra_mask = 1.0 - ramp  # 1 keeps the original frequency, 0 divides it by factor
    freq_inter = freq_extra / factor
    inv_freq = freq_inter * (1 - extra_mask) + freq_extra * extra_mask
    magnitude = yarn_get_mscale(factor, mscale) / yarn_get_mscale(factor, mscale_all_dim)
    return inv_freq, magnitude


def llama_inv_freq(config, head_dim):
    """Inverse frequencies of a llama/qwen2 head (rotate_half layout) and the position divisor."""
    base = float(config.get("rope_theta", 10000))
    inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    kind, scaling = _rope_type(config)
    if kind is None or kind == "default":
        return inv_freq, 1.0
    if kind == "linear":
        return inv_freq, float(scaling["factor"])
    if kind == "llama3":
        factor = float(scaling["factor"])
        low = float(scaling["low_freq_factor"])
        high = float(scaling["high_freq_factor"])
        orig = float(scaling["original_max_position_embeddings"])
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > orig / low, inv_freq / factor, inv_freq)
        smooth = (orig / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= orig / high) & (wavelen <= orig / low)
        return torch.where(medium, smoothed, scaled), 1.0
    raise ValueError(f"unsupported rope_scaling type {kind!r} for {config['model_type']}")


def rope_tables(inv_freq, n_positions, position_divisor=1.0, magnitude=1.0):
    """cos, sin of shape [T, len(inv_freq)] for positions 0..T-1."""
    positions = torch.arange(n_positions, dtype=torch.float64) / position_divisor
    angles = positions[:, None] * inv_freq[None, :]
    return torch.cos(angles) * magnitude, torch.sin(angles) * magnitude


def rope_adjacent(x, cos, sin):
    """Rotate adjacent pairs (2i, 2i+1) by angle i (DeepSeek's convention). cos/sin broadcast
    against x[..., ::2]."""
    even, odd = x[..., 0::2], x[..., 1::2]
    rotated = torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1)
    return rotated.flatten(-2)


def rope_rotate_half(x, cos, sin):
    """Rotate pairs (i, i + d/2) by angle i (HF llama / qwen2 "rotate_half")."""
    half = x.shape[-1] // 2
    first, second = x[..., :half], x[..., half:]
    return torch.cat((first * cos - second * sin, first * sin + second * cos), dim=-1)


# ---------------------------------------------------------------------------------------------
# DeepSeek: MLA attention

def mla_softmax_scale(config):
    scale = (config["qk_nope_head_dim"] + config["qk_rope_head_dim"]) ** -0.5
    kind, scaling = _rope_type(config)
    if kind == "yarn" and scaling.get("mscale_all_dim"):
        m = yarn_get_mscale(float(scaling["factor"]), float(scaling["mscale_all_dim"]))
        scale = scale * m * m
    return scale


def mla_attention(config, weights, prefix, x, cos, sin):
    """Multi-head latent attention, naive (non-absorbed) form. x: [T, hidden]."""
    t = x.shape[0]
    heads = config["num_attention_heads"]
    nope, rope, v_dim = config["qk_nope_head_dim"], config["qk_rope_head_dim"], config["v_head_dim"]
    eps = config["rms_norm_eps"]

    if config.get("q_lora_rank") is None:
        q = linear(x, weights, prefix + ".q_proj")
    else:
        q_latent = linear(x, weights, prefix + ".q_a_proj")
        q_latent = rms_norm(q_latent, weights[prefix + ".q_a_layernorm.weight"], eps)
        q = linear(q_latent, weights, prefix + ".q_b_proj")
    q = q.view(t, heads, nope + rope)
    q_nope, q_pe = q[..., :nope], q[..., nope:]

    kv_a = linear(x, weights, prefix + ".kv_a_proj_with_mqa")
    latent = rms_norm(kv_a[:, : config["kv_lora_rank"]], weights[prefix + ".kv_a_layernorm.weight"], eps)
    k_pe = kv_a[:, config["kv_lora_rank"]:]  # one rope key per token, shared by all heads
    kv = linear(latent, weights, prefix + ".kv_b_proj").view(t, heads, nope + v_dim)
    k_nope, v = kv[..., :nope], kv[..., nope:]

    q_pe = rope_adjacent(q_pe, cos[:, None, :], sin[:, None, :])
    k_pe = rope_adjacent(k_pe, cos, sin)

    scores = torch.einsum("thd,shd->hts", q_nope, k_nope) + torch.einsum("thd,sd->hts", q_pe, k_pe)
    probs = causal_softmax(scores * mla_softmax_scale(config))
    out = torch.einsum("hts,shd->thd", probs, v).reshape(t, heads * v_dim)
    return linear(out, weights, prefix + ".o_proj")


# ---------------------------------------------------------------------------------------------
# DeepSeek: router and MoE

def select_experts(config, scores, bias=None, use_bias=True, use_groups=True):
    """Expert choice for every token, without gradients (indices only).

    scores: [T, n_routed] after softmax/sigmoid. Returns (idx [T, k], expert_margin [T],
    group_margin [T] or None). expert_margin = k-th minus (k+1)-th selection score among the
    allowed experts (inf when only k are allowed); group_margin = last kept minus best dropped
    group score. use_bias / use_groups switch those features off for diagnostics."""
    k = config["num_experts_per_tok"]
    method = config.get("topk_method", "greedy")
    n_group = config.get("n_group") or 1
    topk_group = config.get("topk_group") or 1
    with torch.no_grad():
        select = scores.detach()
        if method == "noaux_tc" and use_bias:
            select = select + bias
        group_margin = None
        if method in ("group_limited_greedy", "noaux_tc") and n_group > 1 and use_groups:
            t, n = select.shape
            grouped = select.view(t, n_group, n // n_group)
            if method == "group_limited_greedy":
                group_scores = grouped.max(dim=-1).values
            else:
                group_scores = grouped.topk(2, dim=-1).values.sum(dim=-1)
            ranked = group_scores.sort(dim=-1, descending=True).values
            group_margin = ranked[:, topk_group - 1] - ranked[:, topk_group]
            kept = group_scores.topk(topk_group, dim=-1).indices
            group_mask = torch.zeros(t, n_group, dtype=torch.bool).scatter(1, kept, True)
            allowed = group_mask[:, :, None].expand(t, n_group, n // n_group).reshape(t, n)
            select = select.masked_fill(~allowed, float("-inf"))
        elif method not in ("greedy", "group_limited_greedy", "noaux_tc"):
            raise ValueError(f"unsupported topk_method {method!r}")
        ranked = select.sort(dim=-1, descending=True).values
        if ranked.shape[1] > k and torch.isfinite(ranked[:, k]).all():
            expert_margin = ranked[:, k - 1] - ranked[:, k]
        else:
            expert_margin = torch.full((select.shape[0],), float("inf"), dtype=select.dtype)
        idx = select.topk(k, dim=-1).indices
    return idx, expert_margin, group_margin


def moe_gate(config, weights, prefix, x, trace=None):
    """-> dense combine weights [T, n_routed] (zero for unchosen experts)."""
    logits = x @ weights[prefix + ".gate.weight"].t()
    func = config.get("scoring_func", "softmax")
    if func == "softmax":
        scores = torch.softmax(logits, dim=-1)
    elif func == "sigmoid":
        scores = torch.sigmoid(logits)
    else:
        raise ValueError(f"unsupported scoring_func {func!r}")
    bias = weights.get(prefix + ".gate.e_score_correction_bias")
    if config.get("topk_method") == "noaux_tc" and bias is None:
        raise ValueError(f"{prefix}.gate.e_score_correction_bias is missing (topk_method noaux_tc)")
    idx, expert_margin, group_margin = select_experts(config, scores, bias)
    chosen = scores.gather(1, idx)  # weights are the UNBIASED scores
    if config.get("norm_topk_prob") and config["num_experts_per_tok"] > 1:
        chosen = chosen / (chosen.sum(dim=-1, keepdim=True) + 1e-20)
    chosen = chosen * config.get("routed_scaling_factor", 1.0)
    if trace is not None:
        trace.append({"prefix": prefix, "scores": scores.detach(), "bias": bias, "idx": idx,
                      "expert_margin": expert_margin, "group_margin": group_margin})
    return torch.zeros_like(scores).scatter(1, idx, chosen)


def moe(config, weights, prefix, x, trace=None):
    """sum_i w_i * Expert_i(x) + Shared(x). Every expert runs on every token (tiny models);
    unchosen experts get weight 0, so the sum equals the sparse one."""
    combine = moe_gate(config, weights, prefix, x, trace)
    out = swiglu(x, weights, prefix + ".shared_experts") if config.get("n_shared_experts") else 0
    for e in range(config["n_routed_experts"]):
        out = out + combine[:, e:e + 1] * swiglu(x, weights, f"{prefix}.experts.{e}")
    return out


def is_moe_layer(config, i):
    return (config.get("n_routed_experts") is not None
            and i >= config.get("first_k_dense_replace", 0)
            and i % config.get("moe_layer_freq", 1) == 0)


# ---------------------------------------------------------------------------------------------
# llama / qwen2: GQA attention

def gqa_attention(config, weights, prefix, x, cos, sin):
    """Grouped-query attention with rotate_half RoPE. x: [T, hidden]."""
    t = x.shape[0]
    heads = config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads") or heads
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    q = linear(x, weights, prefix + ".q_proj").view(t, heads, head_dim)
    k = linear(x, weights, prefix + ".k_proj").view(t, kv_heads, head_dim)
    v = linear(x, weights, prefix + ".v_proj").view(t, kv_heads, head_dim)
    q = rope_rotate_half(q, cos[:, None, :], sin[:, None, :])
    k = rope_rotate_half(k, cos[:, None, :], sin[:, None, :])
    # query head h reads kv head h // (heads / kv_heads)
    k = k.repeat_interleave(heads // kv_heads, dim=1)
    v = v.repeat_interleave(heads // kv_heads, dim=1)
    probs = causal_softmax(torch.einsum("thd,shd->hts", q, k) * head_dim ** -0.5)
    out = torch.einsum("hts,shd->thd", probs, v).reshape(t, heads * head_dim)
    return linear(out, weights, prefix + ".o_proj")


# ---------------------------------------------------------------------------------------------
# The whole model

def lm_head_weight(config, weights):
    head = weights.get("lm_head.weight")
    if head is None:
        if not config.get("tie_word_embeddings", False):
            raise ValueError("lm_head.weight is missing and tie_word_embeddings is not set")
        head = weights["model.embed_tokens.weight"]
    return head


def forward(config, weights, token_ids, trace=None):
    """Logits [T, vocab] (float64) for every position of `token_ids` (row i predicts token i+1).
    `trace`, when a list, receives one record per MoE layer (router scores and choices)."""
    family = config["model_type"]
    eps = config["rms_norm_eps"]
    ids = torch.as_tensor(token_ids, dtype=torch.int64)
    t = ids.shape[0]
    h = weights["model.embed_tokens.weight"][ids]

    if family in DEEPSEEK_FAMILIES:
        inv_freq, magnitude = deepseek_inv_freq(config)
        cos, sin = rope_tables(inv_freq, t, magnitude=magnitude)
    elif family in DENSE_FAMILIES:
        head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
        inv_freq, divisor = llama_inv_freq(config, head_dim)
        cos, sin = rope_tables(inv_freq, t, position_divisor=divisor)
    else:
        raise ValueError(f"unsupported model_type {family!r}")

    for i in range(config["num_hidden_layers"]):
        prefix = f"model.layers.{i}"
        x = rms_norm(h, weights[prefix + ".input_layernorm.weight"], eps)
        if family in DEEPSEEK_FAMILIES:
            h = h + mla_attention(config, weights, prefix + ".self_attn", x, cos, sin)
        else:
            h = h + gqa_attention(config, weights, prefix + ".self_attn", x, cos, sin)
        x = rms_norm(h, weights[prefix + ".post_attention_layernorm.weight"], eps)
        if family in DEEPSEEK_FAMILIES and is_moe_layer(config, i):
            h = h + moe(config, weights, prefix + ".mlp", x, trace)
        else:
            h = h + swiglu(x, weights, prefix + ".mlp")

    h = rms_norm(h, weights["model.norm.weight"], eps)
    return h @ lm_head_weight(config, weights).t()


def greedy(config, weights, token_ids, n):
    """n greedy ids (argmax, ties -> lowest id), recomputing the whole sequence each step.
    -> (ids, last-position logits of each step [n, vocab])."""
    seq = list(token_ids)
    out, rows = [], []
    with torch.no_grad():
        for _ in range(n):
            last = forward(config, weights, seq)[-1]
            next_id = int(torch.nonzero(last == last.max())[0, 0])  # lowest id among ties
            out.append(next_id)
            rows.append(last)
            seq.append(next_id)
    return out, torch.stack(rows)
