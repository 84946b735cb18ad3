"""The training reference: losses and gradients by PyTorch autograd (float64) through the blocks
of model.py, and AdamW steps by torch.optim.AdamW. dseek's trainer (src/train) must agree.

What it defines, for a batch of sequences of T+1 token ids (inputs, then each next token):
  main    = mean cross-entropy of the next-token head over the T positions;
  mtp     = (deepseek_v3 with num_nextn_predict_layers 1) the multi-token-prediction module:
            h' = eh_proj(concat(enorm(embed(t[i+1])), hnorm(h[i]))), with h[i] the main model's
            last hidden state BEFORE model.norm; then one decoder layer (index num_hidden_layers,
            causal over the T-1 positions), shared_head.norm and the shared lm_head, predicting
            t[i+2]; mean cross-entropy over the T-1 positions;
  balance = DeepSeek-V3's sequence-wise balance loss, per MoE layer and per sequence
            alpha * sum_i f_i P_i, f_i = E/(K T) * #(tokens choosing i), P_i = mean over tokens of
            s_i / sum_j s_j; averaged over the sequences, summed over the MoE layers (MTP too);
  total   = main + mtp_lambda * mtp + balance.
The router chooses experts exactly as model.select_experts (bias for the choice only) and the
gradient reaches the router through the (renormalised, scaled) unbiased scores of the chosen
experts and through `balance`.

Optimizer steps: torch.optim.AdamW (betas 0.9/0.95, eps 1e-8; weight decay on 2-D tensors only),
learning rate warm-up then cosine, torch.nn.utils.clip_grad_norm_ on the global norm, gradient
accumulation (the mean of the micro-batch gradients), then the auxiliary-loss-free bias rule
(e_score_correction_bias += gamma where an expert got fewer tokens than the mean over experts,
-= gamma where it got more) with the token counts of the whole step.
"""

import math

import torch

import model as M


def rope_tables_for(config, t):
    if config["model_type"] in M.DEEPSEEK_FAMILIES:
        inv_freq, magnitude = M.deepseek_inv_freq(config)
        return M.rope_tables(inv_freq, t, magnitude=magnitude)
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    inv_freq, divisor = M.llama_inv_freq(config, head_dim)
    return M.rope_tables(inv_freq, t, position_divisor=divisor)


def moe_train(config, weights, prefix, x):
    """model.moe with the router scores kept in the graph. -> (out, scores [T,E], idx [T,k],
    smallest selection margin)."""
    logits = x @ weights[prefix + ".gate.weight"].t()
    if config.get("scoring_func", "softmax") == "softmax":
        scores = torch.softmax(logits, dim=-1)
    else:
        scores = torch.sigmoid(logits)
    bias = weights.get(prefix + ".gate.e_score_correction_bias")
    idx, expert_margin, group_margin = M.select_experts(config, scores, bias)
    chosen = scores.gather(1, idx)
    if config.get("norm_topk_prob") and config["num_experts_per_tok"] > 1:
        chosen = chosen / (chosen.sum(dim=-1, keepdim=True) + 1e-20)
    chosen = chosen * config.get("routed_scaling_factor", 1.0)
    combine = torch.zeros_like(scores).scatter(1, idx, chosen)
    out = M.swiglu(x, weights, prefix + ".shared_experts") if config.get("n_shared_experts") else 0
    for e in range(config["n_routed_experts"]):
        out = out + combine[:, e:e + 1] * M.swiglu(x, weights, f"{prefix}.experts.{e}")
    margin = float(expert_margin.min())
    if group_margin is not None:
        margin = min(margin, float(group_margin.min()))
    return out, scores, idx, margin


def balance_term(config, scores, idx):
    """sum_i f_i P_i for one sequence."""
    t, n = scores.shape
    k = config["num_experts_per_tok"]
    counts = torch.zeros(n, dtype=scores.dtype).scatter_add(0, idx.reshape(-1), torch.ones(t * k, dtype=scores.dtype))
    f = counts * (n / (k * t))
    p = (scores / scores.sum(dim=-1, keepdim=True)).mean(dim=0)
    return (f * p).sum()


def decoder_layer(config, weights, i, h, cos, sin, routers):
    prefix = f"model.layers.{i}"
    eps = config["rms_norm_eps"]
    x = M.rms_norm(h, weights[prefix + ".input_layernorm.weight"], eps)
    if config["model_type"] in M.DEEPSEEK_FAMILIES:
        h = h + M.mla_attention(config, weights, prefix + ".self_attn", x, cos, sin)
    else:
        h = h + M.gqa_attention(config, weights, prefix + ".self_attn", x, cos, sin)
    x = M.rms_norm(h, weights[prefix + ".post_attention_layernorm.weight"], eps)
    if config["model_type"] in M.DEEPSEEK_FAMILIES and M.is_moe_layer(config, i):
        out, scores, idx, margin = moe_train(config, weights, prefix + ".mlp", x)
        routers.append({"layer": i, "scores": scores, "idx": idx, "margin": margin})
        return h + out
    return h + M.swiglu(x, weights, prefix + ".mlp")


def has_mtp(config):
    return config["model_type"] == "deepseek_v3" and config.get("num_nextn_predict_layers", 0) == 1


def sequence_losses(config, weights, ids, check_against_model=False):
    """One sequence of T+1 ids -> dict(main, mtp, balance_terms {layer: tensor}, routers)."""
    ids = torch.as_tensor(ids, dtype=torch.int64)
    t = ids.shape[0] - 1
    eps = config["rms_norm_eps"]
    head = M.lm_head_weight(config, weights)
    embed = weights["model.embed_tokens.weight"]
    cos, sin = rope_tables_for(config, t)
    routers = []
    h = embed[ids[:t]]
    for i in range(config["num_hidden_layers"]):
        h = decoder_layer(config, weights, i, h, cos, sin, routers)
    logits = M.rms_norm(h, weights["model.norm.weight"], eps) @ head.t()
    if check_against_model:
        with torch.no_grad():
            ref = M.forward(config, weights, ids[:t].tolist())
        assert torch.allclose(logits.detach(), ref, rtol=0, atol=1e-10), "training forward differs from model.forward"
    out = {"main": torch.nn.functional.cross_entropy(logits, ids[1:]), "mtp": None, "routers": routers}
    if has_mtp(config) and t >= 2:
        j = config["num_hidden_layers"]
        p = f"model.layers.{j}"
        e = M.rms_norm(embed[ids[1:t]], weights[p + ".enorm.weight"], eps)
        hh = M.rms_norm(h[:t - 1], weights[p + ".hnorm.weight"], eps)
        h2 = torch.cat([e, hh], dim=-1) @ weights[p + ".eh_proj.weight"].t()
        cos2, sin2 = rope_tables_for(config, t - 1)
        h2 = decoder_layer(config, weights, j, h2, cos2, sin2, routers)
        logits2 = M.rms_norm(h2, weights[p + ".shared_head.norm.weight"], eps) @ head.t()
        out["mtp"] = torch.nn.functional.cross_entropy(logits2, ids[2:])
    return out


def batch_losses(config, weights, batch, mtp_lambda, balance_alpha, check_against_model=False):
    """batch: list of sequences of T+1 ids. -> dict(total, main, mtp, balance (tensors),
    counts {layer: [E] tokens per expert}, margin)."""
    mains, mtps, balances = [], [], []
    counts, margin = {}, math.inf
    for s, ids in enumerate(batch):
        o = sequence_losses(config, weights, ids, check_against_model and s == 0)
        mains.append(o["main"])
        if o["mtp"] is not None:
            mtps.append(o["mtp"])
        bal = 0
        for r in o["routers"]:
            bal = bal + balance_term(config, r["scores"], r["idx"])
            n = config["n_routed_experts"]
            c = torch.bincount(r["idx"].reshape(-1), minlength=n)
            counts[r["layer"]] = counts.get(r["layer"], torch.zeros(n, dtype=torch.int64)) + c
            margin = min(margin, r["margin"])
        balances.append(bal)
    main = torch.stack(mains).mean()
    mtp = torch.stack(mtps).mean() if mtps else torch.zeros((), dtype=main.dtype)
    balance = balance_alpha * sum(balances) / len(batch)
    if not torch.is_tensor(balance):
        balance = torch.zeros((), dtype=main.dtype)
    total = main + mtp_lambda * mtp + balance
    return {"total": total, "main": main, "mtp": mtp, "balance": balance, "counts": counts, "margin": margin}


def trainable(name):
    return not name.endswith("e_score_correction_bias")


def bias_name(layer):
    return f"model.layers.{layer}.mlp.gate.e_score_correction_bias"


def gradients(config, weights, batch, mtp_lambda, balance_alpha):
    """-> (losses dict of floats, {name: gradient}) for the total loss of one batch."""
    leaves = {n: w.detach().clone().requires_grad_(trainable(n)) for n, w in weights.items()}
    out = batch_losses(config, leaves, batch, mtp_lambda, balance_alpha, check_against_model=True)
    out["total"].backward()
    grads = {n: w.grad.detach().clone() if w.grad is not None else torch.zeros_like(w)
             for n, w in leaves.items() if trainable(n)}
    losses = {k: float(out[k]) for k in ("total", "main", "mtp", "balance")}
    losses["margin"] = out["margin"]
    return losses, grads


def lr_at(step, opt):
    """Linear warm-up to lr over `warmup` steps, then cosine down to min_lr at the last step."""
    if step < opt["warmup"]:
        return opt["lr"] * (step + 1) / opt["warmup"]
    span = max(1, opt["steps"] - opt["warmup"] - 1)
    progress = min(1.0, (step - opt["warmup"]) / span)
    return opt["min_lr"] + 0.5 * (opt["lr"] - opt["min_lr"]) * (1.0 + math.cos(math.pi * progress))


def train_steps(config, weights, step_batches, opt, mtp_lambda, balance_alpha):
    """step_batches[step][micro] = batch. -> (records per step, final weights)."""
    params = {n: w.detach().clone().requires_grad_(trainable(n)) for n, w in weights.items()}
    decay = [p for n, p in params.items() if trainable(n) and p.dim() == 2]
    no_decay = [p for n, p in params.items() if trainable(n) and p.dim() != 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": opt["weight_decay"]},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]), eps=opt["eps"])
    train_params = [p for n, p in params.items() if trainable(n)]
    records = []
    for step, micro_batches in enumerate(step_batches):
        lr = lr_at(step, opt)
        for g in optimizer.param_groups:
            g["lr"] = lr
        optimizer.zero_grad()
        totals, mains, mtps, bals = [], [], [], []
        counts, margin = {}, math.inf
        for batch in micro_batches:
            out = batch_losses(config, params, batch, mtp_lambda, balance_alpha)
            (out["total"] / len(micro_batches)).backward()
            totals.append(float(out["total"]))
            mains.append(float(out["main"]))
            mtps.append(float(out["mtp"]))
            bals.append(float(out["balance"]))
            margin = min(margin, out["margin"])
            for layer, c in out["counts"].items():
                counts[layer] = counts.get(layer, 0) + c
        norm = float(torch.nn.utils.clip_grad_norm_(train_params, opt["clip"]))
        optimizer.step()
        with torch.no_grad():
            for layer, c in counts.items():
                if bias_name(layer) not in params:
                    continue  # only noaux_tc routing has a bias
                c = c.to(torch.float64)
                direction = torch.sign(c.mean() - c)  # +1 under-loaded, -1 over-loaded, 0 at the mean
                params[bias_name(layer)] += opt["bias_update_speed"] * direction
        records.append({"loss": sum(totals) / len(totals), "main": sum(mains) / len(mains),
                        "mtp": sum(mtps) / len(mtps), "balance": sum(bals) / len(bals),
                        "grad_norm": norm, "lr": lr, "margin": margin,
                        "counts": {str(k): v.tolist() for k, v in sorted(counts.items())}})
    return records, {n: p.detach() for n, p in params.items()}
