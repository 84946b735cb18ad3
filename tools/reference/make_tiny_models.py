"""Write the tiny test models of tiny_configs.py as Hugging Face folders.

    /usr/bin/python3 tools/reference/make_tiny_models.py [--out tests/data/models] [NAME ...]

Each folder gets config.json, generation_config.json, the safetensors (one file, or shards with
model.safetensors.index.json) and the tokenizer files of tests/data/tokenizers/<tokenizer>/.
Weights are random, drawn in a fixed order from a seeded torch.Generator, so the output is
byte-identical on every run:
  embeddings N(0, 1); every linear N(0, 1/sqrt(in_features)); lm_head N(0, 2/sqrt(hidden));
  router gate N(0, 2/sqrt(hidden)); norm weights 1 + N(0, 0.1); biases N(0, 0.1);
  e_score_correction_bias N(0, 0.25).
The drawn float32 values are then stored in the model's dtype (BF16 / F16 round to nearest even;
FP8 as DeepSeek-V3 ships it: see quantize_fp8_blocks).
"""

import argparse
import json
import math
import os
import shutil
import sys
from collections import OrderedDict

import torch

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
import safetensors_io
import tiny_configs
from model import is_moe_layer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


# ---------------------------------------------------------------------------------------------
# What tensors a model has, in drawing order: (name, shape, init) with init one of
# "embed", "linear", "lm_head", "router", "norm", "bias", "score_bias", or ("copy", other name).

def _swiglu_plan(prefix, hidden, inter, bias=False):
    plan = [(f"{prefix}.gate_proj.weight", [inter, hidden], "linear"),
            (f"{prefix}.up_proj.weight", [inter, hidden], "linear"),
            (f"{prefix}.down_proj.weight", [hidden, inter], "linear")]
    if bias:
        plan = [plan[0], (f"{prefix}.gate_proj.bias", [inter], "bias"),
                plan[1], (f"{prefix}.up_proj.bias", [inter], "bias"),
                plan[2], (f"{prefix}.down_proj.bias", [hidden], "bias")]
    return plan


def _deepseek_layer_plan(c, i, prefix):
    hidden, heads = c["hidden_size"], c["num_attention_heads"]
    qk_head = c["qk_nope_head_dim"] + c["qk_rope_head_dim"]
    a = prefix + ".self_attn"
    plan = [(f"{prefix}.input_layernorm.weight", [hidden], "norm")]
    if c.get("q_lora_rank") is None:
        plan.append((f"{a}.q_proj.weight", [heads * qk_head, hidden], "linear"))
    else:
        plan += [(f"{a}.q_a_proj.weight", [c["q_lora_rank"], hidden], "linear"),
                 (f"{a}.q_a_layernorm.weight", [c["q_lora_rank"]], "norm"),
                 (f"{a}.q_b_proj.weight", [heads * qk_head, c["q_lora_rank"]], "linear")]
    plan += [(f"{a}.kv_a_proj_with_mqa.weight", [c["kv_lora_rank"] + c["qk_rope_head_dim"], hidden], "linear"),
             (f"{a}.kv_a_layernorm.weight", [c["kv_lora_rank"]], "norm"),
             (f"{a}.kv_b_proj.weight", [heads * (c["qk_nope_head_dim"] + c["v_head_dim"]), c["kv_lora_rank"]], "linear"),
             (f"{a}.o_proj.weight", [hidden, heads * c["v_head_dim"]], "linear"),
             (f"{prefix}.post_attention_layernorm.weight", [hidden], "norm")]
    m = prefix + ".mlp"
    if is_moe_layer(c, i):
        n, inter = c["n_routed_experts"], c["moe_intermediate_size"]
        plan.append((f"{m}.gate.weight", [n, hidden], "router"))
        if c.get("topk_method") == "noaux_tc":
            plan.append((f"{m}.gate.e_score_correction_bias", [n], "score_bias"))
        for e in range(n):
            plan += _swiglu_plan(f"{m}.experts.{e}", hidden, inter)
        if c.get("n_shared_experts"):
            plan += _swiglu_plan(f"{m}.shared_experts", hidden, c["n_shared_experts"] * inter)
    else:
        plan += _swiglu_plan(m, hidden, c["intermediate_size"])
    return plan


def _dense_layer_plan(c, prefix):
    hidden, heads = c["hidden_size"], c["num_attention_heads"]
    kv_heads = c.get("num_key_value_heads") or heads
    head_dim = c.get("head_dim") or hidden // heads
    qkv_bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
    a = prefix + ".self_attn"
    plan = [(f"{prefix}.input_layernorm.weight", [hidden], "norm")]
    for proj, rows in (("q_proj", heads * head_dim), ("k_proj", kv_heads * head_dim), ("v_proj", kv_heads * head_dim)):
        plan.append((f"{a}.{proj}.weight", [rows, hidden], "linear"))
        if qkv_bias:
            plan.append((f"{a}.{proj}.bias", [rows], "bias"))
    plan.append((f"{a}.o_proj.weight", [hidden, heads * head_dim], "linear"))
    if c.get("attention_bias", False):  # llama puts the bias on o_proj too; qwen2 does not
        plan.append((f"{a}.o_proj.bias", [hidden], "bias"))
    plan.append((f"{prefix}.post_attention_layernorm.weight", [hidden], "norm"))
    plan += _swiglu_plan(prefix + ".mlp", hidden, c["intermediate_size"], bias=c.get("mlp_bias", False))
    return plan


def tensor_plan(c):
    hidden, vocab = c["hidden_size"], c["vocab_size"]
    deepseek = c["model_type"] in ("deepseek_v2", "deepseek_v3")
    plan = [("model.embed_tokens.weight", [vocab, hidden], "embed")]
    for i in range(c["num_hidden_layers"]):
        prefix = f"model.layers.{i}"
        plan += _deepseek_layer_plan(c, i, prefix) if deepseek else _dense_layer_plan(c, prefix)
    plan.append(("model.norm.weight", [hidden], "norm"))
    if not c.get("tie_word_embeddings", False):
        plan.append(("lm_head.weight", [vocab, hidden], "lm_head"))
    # DeepSeek-V3 multi-token prediction modules follow the main layers (index num_hidden_layers).
    for j in range(c.get("num_nextn_predict_layers", 0) if deepseek else 0):
        i = c["num_hidden_layers"] + j
        p = f"model.layers.{i}"
        plan += [(f"{p}.embed_tokens.weight", [vocab, hidden], ("copy", "model.embed_tokens.weight")),
                 (f"{p}.enorm.weight", [hidden], "norm"),
                 (f"{p}.hnorm.weight", [hidden], "norm"),
                 (f"{p}.eh_proj.weight", [hidden, 2 * hidden], "linear")]
        plan += _deepseek_layer_plan(c, i, p)
        plan += [(f"{p}.shared_head.norm.weight", [hidden], "norm"),
                 (f"{p}.shared_head.head.weight", [vocab, hidden], ("copy", "lm_head.weight"))]
    return plan


def draw_weights(c, seed):
    """-> OrderedDict name -> float32 master tensor, drawn in plan order."""
    g = torch.Generator().manual_seed(seed)
    hidden = c["hidden_size"]
    out = OrderedDict()
    for name, shape, init in tensor_plan(c):
        if isinstance(init, tuple):
            out[name] = out[init[1]].clone()
            continue
        noise = torch.randn(shape, generator=g, dtype=torch.float32)
        if init == "embed":
            w = noise
        elif init == "linear":
            w = noise * (1.0 / math.sqrt(shape[1]))
        elif init in ("lm_head", "router"):
            w = noise * (2.0 / math.sqrt(hidden))
        elif init == "norm":
            w = 1.0 + noise * 0.1
        elif init == "bias":
            w = noise * 0.1
        elif init == "score_bias":
            w = noise * 0.25
        else:
            raise ValueError(init)
        out[name] = w
    return out


# ---------------------------------------------------------------------------------------------
# Storage

def quantize_fp8_blocks(w, block=(128, 128)):
    """DeepSeek-V3 style: per 128x128 block (edge blocks partial) scale_inv = max|w| / 448 and
    codes = e4m3(w / scale_inv). -> (codes uint8 [out, in], scale_inv float32 [ceil, ceil])."""
    out_dim, in_dim = w.shape
    bo, bi = block
    scale = torch.zeros(math.ceil(out_dim / bo), math.ceil(in_dim / bi), dtype=torch.float32)
    codes = torch.zeros(out_dim, in_dim, dtype=torch.uint8)
    for r in range(scale.shape[0]):
        for s in range(scale.shape[1]):
            blk = w[r * bo:(r + 1) * bo, s * bi:(s + 1) * bi]
            amax = blk.abs().max()
            if amax == 0:
                raise ValueError("an all-zero FP8 block")
            scale_inv = amax / safetensors_io.FP8_E4M3_MAX  # float32 division
            scale[r, s] = scale_inv
            codes[r * bo:(r + 1) * bo, s * bi:(s + 1) * bi] = safetensors_io.fp8_e4m3_encode(blk / scale_inv)
    return codes, scale


def is_fp8_weight(name, shape):
    """The 2-D projections inside the layers (attention, dense MLP, experts, shared experts,
    MTP eh_proj); not the router gate, norms, embeddings or heads."""
    projections = ("_proj.weight", ".kv_a_proj_with_mqa.weight")
    return name.startswith("model.layers.") and name.endswith(projections) and len(shape) == 2


def store(master, storage):
    """float32 masters -> OrderedDict name -> safetensors_io.Stored."""
    out = OrderedDict()
    for name, w in master.items():
        if name.endswith("e_score_correction_bias"):
            out[name] = safetensors_io.encode(w, "F32")
        elif storage == "FP8" and is_fp8_weight(name, list(w.shape)):
            codes, scale = quantize_fp8_blocks(w)
            out[name] = safetensors_io.Stored("F8_E4M3", codes)
            out[name + "_scale_inv"] = safetensors_io.encode(scale, "F32")
        else:
            out[name] = safetensors_io.encode(w, "BF16" if storage == "FP8" else storage)
    return out


def plan_shards(tensors, spec, config):
    names = list(tensors)
    if spec is None:
        return None
    if spec == "mtp":
        mtp = f"model.layers.{config['num_hidden_layers']}."
        return [[n for n in names if not n.startswith(mtp)], [n for n in names if n.startswith(mtp)]]
    kind, count = spec
    if kind != "even":
        raise ValueError(spec)
    total = sum(tensors[n].nbytes() for n in names)
    shards, current, done = [], [], 0
    for n in names:
        current.append(n)
        done += tensors[n].nbytes()
        if len(shards) < count - 1 and done >= total * (len(shards) + 1) / count:
            shards.append(current)
            current = []
    shards.append(current)
    return shards


def _write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def write_model(name, folder, seed=None, quiet=False):
    """Write model `name` of tiny_configs.MODELS into `folder` (replaced if present)."""
    spec = tiny_configs.MODELS[name]
    config = spec["config"]
    seed = spec["seeds"]["weights"] if seed is None else seed
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    _write_json(os.path.join(folder, "config.json"), config)
    _write_json(os.path.join(folder, "generation_config.json"), spec["generation"])
    tokenizer_dir = os.path.join(REPO, "tests", "data", "tokenizers", spec["tokenizer"])
    for f in TOKENIZER_FILES:
        shutil.copyfile(os.path.join(tokenizer_dir, f), os.path.join(folder, f))

    master = draw_weights(config, seed)
    tensors = store(master, spec["storage"])
    shards = plan_shards(tensors, spec["shards"], config)
    if shards is None:
        safetensors_io.save_file(tensors, os.path.join(folder, "model.safetensors"))
    else:
        safetensors_io.save_sharded(tensors, folder, shards)
    if not quiet:
        params = sum(w.numel() for w in master.values())
        files = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
        sizes = ", ".join(f"{f} {os.path.getsize(os.path.join(folder, f))} B" for f in files)
        print(f"{name}: {params} parameters ({len(tensors)} tensors, {spec['storage']}), seed {seed}: {sizes}")
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "data", "models"))
    parser.add_argument("names", nargs="*", help="models to write (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = args.names or list(tiny_configs.MODELS)
    for name in names:
        if name not in tiny_configs.MODELS:
            print(f"unknown model {name}; known: {', '.join(tiny_configs.MODELS)}")
            return 1
        write_model(name, os.path.join(args.out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
