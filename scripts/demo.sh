#!/usr/bin/env bash
# Builds dseek and runs it on a model. Until dseek ships its own trained
# default model, the model is one of the tiny random-weight checkpoints that
# tools/reference generates (committed under tests/data/models): its output is
# meaningless text-wise, but every step of the real data path runs.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-tests/data/models/deepseek-v3-tiny-fp8}

cmake --preset release >/dev/null
cmake --build --preset release -j "${JOBS:-2}" --target dseek
echo
echo "NOTE: $MODEL is a tiny RANDOM-WEIGHT model made by tools/reference (no trained model ships yet)."
./build/release/src/dseek info "$MODEL"
echo
echo "greedy continuation of the prompt 382,10,20,30,40:"
./build/release/src/dseek generate "$MODEL" --tokens 382,10,20,30,40 -n 16 --greedy --ids
