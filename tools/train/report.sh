#!/usr/bin/env bash
# The report step of a training run: draws the loss curves of <run>/log.jsonl
# (training loss per step, smoothed; validation loss; expert load balance) to
# a PNG with gnuplot (Debian: gnuplot-nox) and prints a short summary.
#
#   tools/train/report.sh RUN_DIR OUT.png [TITLE]
set -euo pipefail
run="$1"
png="$2"
title="${3:-dseek pretraining}"
py="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$py" - "$run/log.jsonl" "$tmp" <<'PY'
import json, sys
log, tmp = sys.argv[1], sys.argv[2]
steps, val = [], []
for line in open(log):
    j = json.loads(line)
    (val if "val_loss" in j else steps).append(j)
window, smooth = 25, []
with open(f"{tmp}/train.dat", "w") as f:
    for i, s in enumerate(steps):
        smooth.append(s["main"])
        avg = sum(smooth[-window:]) / len(smooth[-window:])
        f.write(f"{s['step'] + 1} {s['main']} {avg} {s.get('mtp', 0)} {s['imbalance']}\n")
with open(f"{tmp}/val.dat", "w") as f:
    for v in val:
        f.write(f"{v['step']} {v['val_loss']}\n")
tokens = sum(1 for _ in steps)
secs = sum(s["seconds"] for s in steps)
first = sum(s["main"] for s in steps[:20]) / max(1, len(steps[:20]))
last = sum(s["main"] for s in steps[-50:]) / max(1, len(steps[-50:]))
imb = sum(s["imbalance"] for s in steps[-50:]) / max(1, len(steps[-50:]))
print(f"steps: {len(steps)}, time in steps: {secs / 60:.1f} min")
print(f"train loss (main head): first 20 steps {first:.3f}, last 50 steps {last:.3f}")
if val:
    print("validation loss: " + ", ".join(f"{v['step']}: {v['val_loss']:.3f}" for v in val))
print(f"expert load balance (max/mean per step, last 50 steps): {imb:.3f}")
PY
gnuplot <<GP
set terminal png size 1000,700 font ",11"
set output "$png"
set title "$title"
set multiplot layout 2,1
set grid
set ylabel "loss (nats/token)"
set key top right
plot "$tmp/train.dat" using 1:2 with lines lc rgb "#c0c0e0" title "train (main head)", \
     "$tmp/train.dat" using 1:3 with lines lw 2 lc rgb "#2040a0" title "train, 25-step mean", \
     "$tmp/val.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#c03020" title "validation"
unset title
set ylabel "max/mean tokens per expert"
set xlabel "step"
set yrange [1:*]
plot "$tmp/train.dat" using 1:5 with lines lc rgb "#208040" title "expert load balance (1 = perfect)"
unset multiplot
GP
echo "wrote $png"
