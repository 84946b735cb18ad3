#!/usr/bin/env bash
# The auxiliary-loss-free balancing rule on and off: two short runs of the
# same config (same seed, data and initial weights; balance_alpha 0 in both,
# so the rule is the only balancing), reporting the expert load balance
# (max/mean tokens per routed expert over 10-step windows, mean over MoE
# layers) and the validation loss of each.
#
#   tools/train/balance_experiment.sh CONFIG.json STEPS GAMMA [OUT_DIR]
set -euo pipefail
config="$1"
steps="$2"
gamma="$3"
out="${4:-build/balance}"
dseek="${DSEEK:-build/release/src/dseek}"
py="${PYTHON:-python3}"
mkdir -p "$out"
for g in 0 "$gamma"; do
  "$py" - "$config" "$out/config-$g.json" "$g" "$out/run-$g" "$steps" <<'PY'
import json, os, sys
src, dst, gamma, run, steps = sys.argv[1:6]
c = json.load(open(src))
base = os.path.dirname(os.path.abspath(src))
for key in ("model", "tokenizer", "init_from"):
    if isinstance(c.get(key), str) and c[key] and not os.path.isabs(c[key]):
        c[key] = os.path.join(base, c[key])
for key in ("train", "validation"):
    files = c.get(key, [])
    files = [files] if isinstance(files, str) else files
    c[key] = [f if os.path.isabs(f) else os.path.join(base, f) for f in files]
c.update(bias_update_speed=float(gamma), balance_alpha=0.0, out=os.path.abspath(run), steps=int(steps),
         eval_every=int(steps), checkpoint_every=0)
json.dump(c, open(dst, "w"), indent=1)
PY
  echo "== bias_update_speed $g"
  nice -n 5 "$dseek" train pretrain --config "$out/config-$g.json" -q
done
"$py" - "$out" "$gamma" <<'PY'
import json, sys
out, gamma = sys.argv[1], sys.argv[2]

def summary(run):
    steps, val = [], None
    for line in open(f"{run}/log.jsonl"):
        j = json.loads(line)
        if "val_loss" in j:
            val = j["val_loss"]
        else:
            steps.append(j)
    def windowed(part):
        ratios = []
        for w in range(0, len(part) - 9, 10):
            layers = len(part[w]["expert_counts"])
            for l in range(layers):
                counts = [sum(s["expert_counts"][l][e] for s in part[w:w + 10]) for e in range(len(part[w]["expert_counts"][l]))]
                ratios.append(max(counts) * len(counts) / sum(counts))
        return sum(ratios) / len(ratios), max(ratios)
    half = steps[len(steps) // 2:]
    mean_all, _ = windowed(steps)
    mean_late, worst_late = windowed(half)
    main_late = sum(s["main"] for s in steps[-50:]) / len(steps[-50:])
    return {"balance_all": mean_all, "balance_second_half": mean_late, "worst_window_second_half": worst_late,
            "train_loss_last50": main_late, "val_loss": val}

rows = {g: summary(f"{out}/run-{g}") for g in ("0", gamma)}
print(json.dumps(rows, indent=1))
a, b = rows["0"], rows[gamma]
print(f"without the rule: max/mean {a['balance_second_half']:.2f} (worst 10-step window {a['worst_window_second_half']:.2f}), "
      f"val loss {a['val_loss']:.4f}")
print(f"with gamma {gamma}:  max/mean {b['balance_second_half']:.2f} (worst 10-step window {b['worst_window_second_half']:.2f}), "
      f"val loss {b['val_loss']:.4f}")
json.dump(rows, open(f"{out}/summary.json", "w"), indent=1)
PY
