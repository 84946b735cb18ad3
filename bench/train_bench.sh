#!/usr/bin/env bash
# Training throughput, dseek against PyTorch (Debian's python3-torch), on the
# same model (bench/train_model.json: deepseek_v3 family, MLA + MoE + MTP,
# 5.9M parameters), the same batches (8 x 128 tokens), the same starting
# weights, optimizer and thread count, alternating runs. Also checks that
# both compute the same losses (so they train the same model).
#
#   bench/train_bench.sh [ROUNDS=2] [THREADS=2]      (needs a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2}"
threads="${2:-2}"
dseek=build/release/src/dseek
py="${PYTHON:-/usr/bin/python3}"
dseek_steps="${DSEEK_STEPS:-12}"
torch_steps="${TORCH_STEPS:-4}"
[ -x "$dseek" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$py" - "$work" <<'PY'
import json, random, struct, sys
work = sys.argv[1]
rng = random.Random(1)
ids = [rng.randrange(4096) for _ in range(300000)]
with open(f"{work}/bench.tokens", "wb") as f:
    f.write(b"DSKTOKS1" + struct.pack("<IIQ", 1, 0, len(ids)) + struct.pack(f"<{len(ids)}I", *ids))
base = {"model": "MODEL", "train": "bench.tokens", "seq_len": 128, "batch_size": 8, "grad_accum": 1,
        "steps": 1000, "warmup": 10, "lr": 1e-3, "min_lr": 1e-4, "seed": 1, "eval_every": 0,
        "checkpoint_every": 0, "log_every": 1000, "balance_alpha": 0.0001, "bias_update_speed": 0.001}
json.dump(dict(base, out="init"), open(f"{work}/init.json", "w"))
json.dump(dict(base, out="run", init_from="init/checkpoint"), open(f"{work}/run.json", "w"))
PY
sed -i "s|\"MODEL\"|\"$PWD/bench/train_model.json\"|" "$work/init.json" "$work/run.json"
"$dseek" train pretrain --config "$work/init.json" --stop-after 0 -q

tokens_per_s() {  # from dseek's log: steps after the first two
  "$py" -c 'import json,sys; s=[json.loads(l)["seconds"] for l in open(sys.argv[1]) if "seconds" in l][2:]; print(1024*len(s)/sum(s))' "$1"
}
# Debian's torch multiplies through whatever libblas.so.3 the alternatives
# system points at: the reference BLAS (libblas3) unless an optimized one such
# as OpenBLAS (apt-get install libopenblas0-pthread) is installed. Say which.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)
export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
echo "pytorch: $("$py" -c 'import torch; print(torch.__version__)'), BLAS $blas"
echo "model: bench/train_model.json, batch 8 x 128 tokens, $threads threads, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
results=()
for r in $(seq 1 "$rounds"); do
  "$dseek" train pretrain --config "$work/run.json" --steps "$dseek_steps" --threads "$threads" -q
  d=$(tokens_per_s "$work/run/log.jsonl")
  t=$("$py" bench/torch_train.py --model bench/train_model.json --weights "$work/init/checkpoint/model.safetensors" \
      --tokens "$work/bench.tokens" --train-json "$work/run.json" --steps "$torch_steps" --threads "$threads")
  echo "$t" > "$work/torch-$r.json"
  tt=$(echo "$t" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_s"])')
  printf "round %d: dseek %8.1f tokens/s   pytorch %8.1f tokens/s   ratio %.1fx\n" "$r" "$d" "$tt" "$(echo "$d / $tt" | bc -l)"
  results+=("$d $tt")
done
# Same model: the first losses agree.
"$py" - "$work" <<'PY'
import json, sys
work = sys.argv[1]
d = [json.loads(l)["loss"] for l in open(f"{work}/run/log.jsonl") if "loss" in l]
t = json.load(open(f"{work}/torch-1.json"))["losses"]
worst = max(abs(a - b) / abs(b) for a, b in zip(d, t))
print(f"same model: losses of the first {len(t)} steps agree within {worst:.1e} relative "
      f"(dseek {d[0]:.6f}, pytorch {t[0]:.6f} at step 0)")
PY
