#!/usr/bin/env bash
# Shows that a model larger than RAM loads instantly and runs (slowly): makes
# a sparse all-zero llama checkpoint bigger than physical memory, then times
# loading (dseek info) and a 2-token greedy generation, with peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/tmp/dseek-larger-than-ram}
ram_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
layers=$(( ram_kb * 1024 / (2 * (4 * 8192 * 8192 + 3 * 8192 * 22016)) + 4 ))
python3 tools/make_sparse_model.py "$DIR" --layers "$layers"
echo "RAM: $(( ram_kb / 1024 / 1024 )) GiB"
/usr/bin/time -f "info: %e s wall, peak RSS %M KB" ./build/release/src/dseek info "$DIR" >/dev/null
/usr/bin/time -f "generate -n 2: %e s wall, peak RSS %M KB" \
  ./build/release/src/dseek generate "$DIR" --tokens 1,2,3 -n 2 --ids
rm -rf "$DIR"
