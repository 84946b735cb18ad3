"""Golden files for dseek's trainer: gradients of one batch and the losses of 10 AdamW steps,
computed by train_reference.py (PyTorch autograd, float64) on tiny configs.

    /usr/bin/python3 tools/reference/make_train_goldens.py [--out tests/golden/train] [NAME ...]
    /usr/bin/python3 tools/reference/make_train_goldens.py --search NAME   # find seeds that pass

For each config NAME, tests/golden/train/NAME/ gets:
  config.json         the model (Hugging Face config);
  init.safetensors    the starting weights, F32 (drawn as make_tiny_models.draw_weights does);
  grads.safetensors   d total / d weight for the batch `grad_batch`, rounded to F32;
  golden.json         the batches, loss weights, optimizer settings and per-step records.
The float64 reference starts from the F32 weights exactly. Seeds are kept only if every router
choice along the way has a margin >= MIN_ROUTER_MARGIN (so float32 rounding cannot flip a choice).
Deterministic: two runs write byte-identical files.
"""

import argparse
import json
import os
import sys
from collections import OrderedDict

import torch

sys.dont_write_bytecode = True
import make_tiny_models
import safetensors_io
import train_reference as TR

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIN_ROUTER_MARGIN = 2e-4

_DEEPSEEK = {
    "attention_bias": False, "bos_token_id": 0, "eos_token_id": 1, "hidden_act": "silu",
    "initializer_range": 0.02, "max_position_embeddings": 64, "rms_norm_eps": 1e-06,
    "rope_theta": 10000, "tie_word_embeddings": False, "torch_dtype": "float32", "vocab_size": 64,
    "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 2,
    "kv_lora_rank": 16, "qk_nope_head_dim": 8, "qk_rope_head_dim": 8, "v_head_dim": 8,
    "moe_intermediate_size": 16, "first_k_dense_replace": 1, "moe_layer_freq": 1,
}

CONFIGS = {
    # MLA with q_lora, YaRN, noaux_tc sigmoid routing over groups, shared expert, MTP layer.
    "deepseek-v3-train": dict(
        _DEEPSEEK, architectures=["DeepseekV3ForCausalLM"], model_type="deepseek_v3",
        q_lora_rank=16, n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=3,
        n_group=4, topk_group=2, topk_method="noaux_tc", scoring_func="sigmoid", norm_topk_prob=True,
        routed_scaling_factor=2.5, num_nextn_predict_layers=1,
        rope_scaling={"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 8,
                      "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0}),
    # MLA without q_lora, softmax greedy routing, no renormalisation.
    "deepseek-v2-lite-train": dict(
        _DEEPSEEK, architectures=["DeepseekV2ForCausalLM"], model_type="deepseek_v2",
        q_lora_rank=None, n_routed_experts=6, n_shared_experts=2, num_experts_per_tok=2,
        n_group=1, topk_group=1, topk_method="greedy", scoring_func="softmax", norm_topk_prob=False,
        routed_scaling_factor=1.0),
    # GQA with every llama bias.
    "llama-train": {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "attention_bias": True,
        "bos_token_id": 0, "eos_token_id": 1, "hidden_act": "silu", "hidden_size": 32,
        "intermediate_size": 48, "max_position_embeddings": 64, "num_attention_heads": 4,
        "num_hidden_layers": 2, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 10000.0,
        "tie_word_embeddings": False, "torch_dtype": "float32", "vocab_size": 64},
    # qwen2 q/k/v biases and tied embeddings.
    "qwen2-tied-train": {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "bos_token_id": 0, "eos_token_id": 1,
        "hidden_act": "silu", "hidden_size": 32, "intermediate_size": 40, "max_position_embeddings": 64,
        "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 1, "rms_norm_eps": 1e-06,
        "rope_theta": 1000000.0, "tie_word_embeddings": True, "torch_dtype": "float32", "vocab_size": 64},
}

# Seeds: weights, tokens (chosen with --search so that the router margins hold).
SEEDS = {
    "deepseek-v3-train": (1, 3),
    "deepseek-v2-lite-train": (2, 2),
    "llama-train": (1, 1),
    "qwen2-tied-train": (1, 1),
}

LOSS_WEIGHTS = {"mtp_lambda": 0.3, "balance_alpha": 0.1}
N_SEQ, SEQ_LEN, STEPS, ACCUM = 2, 12, 10, 2
OPTIMIZER = {"lr": 3e-3, "min_lr": 3e-4, "warmup": 3, "steps": STEPS, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8,
             "weight_decay": 0.1, "clip": 1.0, "accum": ACCUM, "bias_update_speed": 0.01}


def initial_weights(config, seed):
    """F32 weights (the MTP module's copies of the embedding and head left out: training shares
    them), widened to float64."""
    drawn = make_tiny_models.draw_weights(config, seed)
    j = config["num_hidden_layers"]
    skip = {f"model.layers.{j}.embed_tokens.weight", f"model.layers.{j}.shared_head.head.weight"}
    return OrderedDict((n, w.to(torch.float32).to(torch.float64)) for n, w in drawn.items() if n not in skip)


def batches(config, seed):
    g = torch.Generator().manual_seed(1000 + seed)

    def one():
        return torch.randint(0, config["vocab_size"], (N_SEQ, SEQ_LEN + 1), generator=g).tolist()

    grad_batch = one()
    steps = [[one() for _ in range(ACCUM)] for _ in range(STEPS)]
    return grad_batch, steps


def compute(name, weight_seed, token_seed):
    config = CONFIGS[name]
    weights = initial_weights(config, weight_seed)
    grad_batch, step_batches = batches(config, token_seed)
    losses, grads = TR.gradients(config, weights, grad_batch, **LOSS_WEIGHTS)
    records, final = TR.train_steps(config, weights, step_batches, OPTIMIZER, **LOSS_WEIGHTS)
    margin = min([losses["margin"]] + [r["margin"] for r in records])
    return config, weights, grad_batch, step_batches, losses, grads, records, final, margin


def write(name, out_root):
    ws, ts = SEEDS[name]
    config, weights, grad_batch, step_batches, losses, grads, records, final, margin = compute(name, ws, ts)
    if margin < MIN_ROUTER_MARGIN:
        raise SystemExit(f"{name}: router margin {margin:.3g} < {MIN_ROUTER_MARGIN}; run --search {name}")
    folder = os.path.join(out_root, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    meta = {"format": "pt"}
    safetensors_io.save_file(OrderedDict((n, safetensors_io.encode(w, "F32")) for n, w in weights.items()),
                             os.path.join(folder, "init.safetensors"), meta)
    safetensors_io.save_file(OrderedDict((n, safetensors_io.encode(g, "F32")) for n, g in grads.items()),
                             os.path.join(folder, "grads.safetensors"), meta)
    final_bias = {n: [float(v) for v in w.tolist()] for n, w in final.items() if not TR.trainable(n)}
    golden = OrderedDict([
        ("format", "dseek-train-golden"), ("version", 1), ("model", name),
        ("made_by", "tools/reference/make_train_goldens.py (PyTorch autograd, float64)"),
        ("regenerate", "/usr/bin/python3 tools/reference/make_train_goldens.py"),
        ("seeds", {"weights": ws, "tokens": ts}),
        ("loss_weights", LOSS_WEIGHTS),
        ("grad_batch", grad_batch),
        ("grad_losses", {k: losses[k] for k in ("total", "main", "mtp", "balance")}),
        ("optimizer", OPTIMIZER),
        ("step_batches", step_batches),
        ("steps", [{k: r[k] for k in ("loss", "main", "mtp", "balance", "grad_norm", "lr", "counts")}
                   for r in records]),
        ("final_bias", final_bias),
        ("min_router_margin", None if margin == float("inf") else margin),
    ])
    with open(os.path.join(folder, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"{name}: loss {records[0]['loss']:.5f} -> {records[-1]['loss']:.5f}, "
          f"grad norm {records[0]['grad_norm']:.3f}, router margin {margin:.3g}")


def search(name):
    for ws in range(1, 40):
        for ts in range(1, 4):
            margin = compute(name, ws, ts)[-1]
            print(f"{name}: weights {ws} tokens {ts}: margin {margin:.3g}")
            if margin >= MIN_ROUTER_MARGIN:
                return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "golden", "train"))
    ap.add_argument("--search")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.search:
        search(args.search)
        return
    for name in args.names or CONFIGS:
        write(name, args.out)


if __name__ == "__main__":
    main()
