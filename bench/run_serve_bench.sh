#!/usr/bin/env bash
# The serving benchmark end to end (not part of the test suite; minutes to
# an hour on a small machine): makes a random V2-Lite-shaped model (reduced
# width and depth, see make_bench_model.mjs), converts it to GGUF with
# `dseek convert` so both servers read the same file, builds llama-server,
# measures read bandwidth, and runs serve_bench.mjs.
#   THREADS=2 TOKENS=64 PROMPT_TOKENS=2000 TYPE=bf16 bench/run_serve_bench.sh [model args...]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/bench
THREADS=${THREADS:-2}
TYPE=${TYPE:-bf16}
DSEEK=build/release/src/dseek
mkdir -p "$OUT"
[ -f "$OUT/model/config.json" ] || node bench/make_bench_model.mjs "$OUT/model" "$@"
LLAMA=$(bench/build_llama_server.sh | tail -1)
g++ -O2 -std=c++17 -pthread bench/membw.cpp -o "$OUT/membw"
BW=$("$OUT/membw" "$THREADS")
echo "read bandwidth with $THREADS threads: $BW GB/s"
case "$TYPE" in bf16|f16) BYTES=2 ;; f32) BYTES=4 ;; q8_0) BYTES=1.0625 ;; *) echo "TYPE: bf16, f16, f32 or q8_0"; exit 2 ;; esac
GGUF="$OUT/model-$TYPE.gguf"
if "$DSEEK" convert --help >/dev/null 2>&1; then
  [ -f "$GGUF" ] || "$DSEEK" convert "$OUT/model" "$GGUF" --type "$TYPE" -t "$THREADS"
  DSEEK_MODEL="$GGUF"
  DSEEK_ARGS="--tokenizer $OUT/model"
else
  # Without GGUF support dseek reads the same weights from the safetensors (bf16).
  echo "dseek convert is not available: dseek reads $OUT/model, llama-server needs a GGUF" >&2
  DSEEK_MODEL="$OUT/model"
  DSEEK_ARGS=""
fi
node bench/serve_bench.mjs --dseek "$DSEEK" --dseek-model "$DSEEK_MODEL" --dseek-args "$DSEEK_ARGS" \
  --llama-server "$LLAMA" --llama-model "$GGUF" --config "$OUT/model/config.json" --weight-bytes "$BYTES" \
  --bandwidth "$BW" --threads "$THREADS" --tokens "${TOKENS:-64}" --prompt-tokens "${PROMPT_TOKENS:-2000}"
