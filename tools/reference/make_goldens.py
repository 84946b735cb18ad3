"""Golden logits of the tiny models, from the float64 reference (model.py).

    /usr/bin/python3 tools/reference/make_goldens.py [NAME ...]
    /usr/bin/python3 tools/reference/make_goldens.py --search NAME [--first 1 --tries 200]

For each model of tiny_configs.py (already written by make_tiny_models.py under
tests/data/models/): tokens = [bos] + 79 ids drawn with torch.Generator(seeds["tokens"]) from
[0, vocab_size - 3) (never a special id); logits at all 80 positions; 32 greedy ids (argmax,
ties -> lowest id, EOS not special, full recompute each step). Writes
tests/golden/<name>/golden.json and tests/golden/<name>/logits.bin
(b"DSKGOLD1", u32 version 1, u32 rows, u32 cols, u32 0, rows*cols float32 LE, row-major).

The seeds are chosen so that an f32 engine cannot flip a choice by rounding: the script refuses
to write a golden unless
  min_top1_margin   (top1 - top2 logit over the 80 positions)  >= 2e-3 * max_abs_logit
  min_greedy_margin (the same over the 32 greedy steps)         >= 2e-3 * max_abs_logit
  min_router_margin (k-th minus (k+1)-th allowed selection score, and last kept minus best
                     dropped group score, over every token of prompt + greedy ids and every
                     MoE layer)                                  >= 1e-4
and, for noaux_tc routing, both the bias and the group limit change the selected expert set
for at least MIN_CHANGED_SHARE of the token-layers (so an engine ignoring either fails).
--search NAME tries weight seeds on a scratch copy of the model and prints the first that passes.
"""

import argparse
import json
import os
import struct
import sys
import tempfile

import torch

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
import make_tiny_models
import model
import tiny_configs

REPO = make_tiny_models.REPO
N_PROMPT = 80
N_GREEDY = 32
MARGIN_REL = 2e-3
MIN_ROUTER_MARGIN = 1e-4
MIN_CHANGED_SHARE = 0.25
MAGIC = b"DSKGOLD1"
VERSION = 1


def prompt_tokens(config, seed):
    g = torch.Generator().manual_seed(seed)
    drawn = torch.randint(0, config["vocab_size"] - 3, (N_PROMPT - 1,), generator=g)
    return [config["bos_token_id"]] + [int(x) for x in drawn]


def top1_margins(logits):
    top2 = logits.topk(2, dim=-1).values
    return top2[:, 0] - top2[:, 1]


def router_stats(config, weights, tokens):
    """Router margins over every token and MoE layer, and how often the bias / the group limit
    change the chosen set. None for models without MoE."""
    trace = []
    with torch.no_grad():
        model.forward(config, weights, tokens, trace=trace)
    if not trace:
        return None
    margins, changed_bias, changed_groups, total = [], 0, 0, 0
    grouped = config.get("topk_method") in ("group_limited_greedy", "noaux_tc") and (config.get("n_group") or 1) > 1
    for rec in trace:
        margins.append(rec["expert_margin"].min())
        if rec["group_margin"] is not None:
            margins.append(rec["group_margin"].min())
        chosen = rec["idx"].sort(dim=-1).values
        total += chosen.shape[0]
        if config.get("topk_method") == "noaux_tc":
            no_bias, _, _ = model.select_experts(config, rec["scores"], rec["bias"], use_bias=False)
            changed_bias += int((no_bias.sort(dim=-1).values != chosen).any(dim=-1).sum())
        if grouped:
            no_groups, _, _ = model.select_experts(config, rec["scores"], rec["bias"], use_groups=False)
            changed_groups += int((no_groups.sort(dim=-1).values != chosen).any(dim=-1).sum())
    return {
        "min_router_margin": float(torch.stack(margins).min()),
        "token_layers": total,
        "changed_by_bias": changed_bias if config.get("topk_method") == "noaux_tc" else None,
        "changed_by_groups": changed_groups if grouped else None,
    }


def evaluate(config, weights, tokens, early_exit=False):
    """All golden numbers plus a list of failed requirements (empty when the golden is usable)."""
    failures = []
    with torch.no_grad():
        logits = model.forward(config, weights, tokens)
    top1 = top1_margins(logits)
    if early_exit and top1.min() < MARGIN_REL * logits.abs().max():
        return None, ["top1 margin"]
    greedy_ids, greedy_rows = model.greedy(config, weights, tokens, N_GREEDY)
    max_abs = float(torch.cat([logits, greedy_rows]).abs().max())
    result = {
        "logits": logits,
        "greedy": greedy_ids,
        "min_top1_margin": float(top1.min()),
        "min_greedy_margin": float(top1_margins(greedy_rows).min()),
        "max_abs_logit": max_abs,
        "router": router_stats(config, weights, tokens + greedy_ids),
    }
    if result["min_top1_margin"] < MARGIN_REL * max_abs:
        failures.append(f"min_top1_margin {result['min_top1_margin']:.3g} < {MARGIN_REL:g} * {max_abs:.3g}")
    if result["min_greedy_margin"] < MARGIN_REL * max_abs:
        failures.append(f"min_greedy_margin {result['min_greedy_margin']:.3g} < {MARGIN_REL:g} * {max_abs:.3g}")
    r = result["router"]
    if r is not None:
        if r["min_router_margin"] < MIN_ROUTER_MARGIN:
            failures.append(f"min_router_margin {r['min_router_margin']:.3g} < {MIN_ROUTER_MARGIN:g}")
        for key in ("changed_by_bias", "changed_by_groups"):
            if config.get("topk_method") == "noaux_tc" and r[key] < MIN_CHANGED_SHARE * r["token_layers"]:
                failures.append(f"{key} {r[key]}/{r['token_layers']} < {MIN_CHANGED_SHARE:g}")
    return result, failures


def describe(name, result):
    r = result["router"]
    text = (f"{name}: min_top1_margin {result['min_top1_margin']:.4f}, min_greedy_margin "
            f"{result['min_greedy_margin']:.4f}, max_abs_logit {result['max_abs_logit']:.3f} "
            f"(ratio {min(result['min_top1_margin'], result['min_greedy_margin']) / result['max_abs_logit']:.2e})")
    if r is not None:
        text += f", min_router_margin {r['min_router_margin']:.2e}"
        if r["changed_by_bias"] is not None:
            text += f", bias changes the expert set in {r['changed_by_bias']}/{r['token_layers']} token-layers"
        if r["changed_by_groups"] is not None:
            text += f", group limit changes it in {r['changed_by_groups']}/{r['token_layers']}"
    return text


def write_golden(name, tokens, result, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    logits = result["logits"].to(torch.float32).contiguous()
    rows, cols = logits.shape
    with open(os.path.join(out_dir, "logits.bin"), "wb") as f:
        f.write(MAGIC + struct.pack("<IIII", VERSION, rows, cols, 0))
        f.write(logits.numpy().astype("<f4").tobytes())
    r = result["router"]
    fields = [
        ("format", "dseek-golden"),
        ("version", VERSION),
        ("model", f"tests/data/models/{name}"),
        ("made_by", f"tools/reference/make_goldens.py, PyTorch {torch.__version__}, float64 on dequantized weights"),
        ("regenerate", "tools/reference/regenerate.sh"),
        ("tokens", tokens),
        ("positions", rows),
        ("vocab_size", cols),
        ("logits_file", "logits.bin"),
        ("greedy", result["greedy"]),
        ("min_top1_margin", result["min_top1_margin"]),
        ("min_greedy_margin", result["min_greedy_margin"]),
        ("min_router_margin", None if r is None else r["min_router_margin"]),
        ("max_abs_logit", result["max_abs_logit"]),
    ]
    body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in fields)
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        f.write("{\n" + body + "\n}\n")


def make(name):
    spec = tiny_configs.MODELS[name]
    folder = os.path.join(REPO, "tests", "data", "models", name)
    config, weights = model.load(folder)
    tokens = prompt_tokens(config, spec["seeds"]["tokens"])
    result, failures = evaluate(config, weights, tokens)
    print(describe(name, result))
    if failures:
        print(f"{name}: NOT written, requirements failed: {'; '.join(failures)}")
        return False
    write_golden(name, tokens, result, os.path.join(REPO, "tests", "golden", name))
    return True


def search(name, first, tries):
    spec = tiny_configs.MODELS[name]
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(first, first + tries):
            folder = make_tiny_models.write_model(name, os.path.join(tmp, name), seed=seed, quiet=True)
            config, weights = model.load(folder)
            tokens = prompt_tokens(config, spec["seeds"]["tokens"])
            result, failures = evaluate(config, weights, tokens, early_exit=True)
            if failures:
                print(f"seed {seed}: {'; '.join(failures)}")
                continue
            print(f"seed {seed} passes: {describe(name, result)}")
            return 0
    print(f"no weight seed in [{first}, {first + tries}) passes")
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="models (default: all)")
    parser.add_argument("--search", metavar="NAME", help="find a weight seed for NAME that meets the margins")
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--tries", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.search:
        return search(args.search, args.first, args.tries)
    ok = True
    for name in args.names or list(tiny_configs.MODELS):
        ok = make(name) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
