#!/usr/bin/env bash
# The serving benchmark end to end (not part of the test suite): dseek serve
# against llama.cpp's llama-server -np 8, both reading the same random-weight
# DeepSeek-V2-Lite-shaped GGUF (bench/make_random_gguf.cpp: the real shape,
# 15.7 B parameters, 2.45 B active, vocab 102400; the file compare_llamacpp.py
# uses), with the same threads. Measures the machine's read bandwidth
# (dseek_triad; again before and after each server's throughput runs, the
# bound taking the median), then runs bench/serve_bench.mjs: 1/4/8 concurrent streaming
# clients beside the bandwidth bound of each batch, and time to first token
# of a ~2,000-token prompt cached vs uncached.
#
#   bench/run_serve_bench.sh                          # Q4_0, 2 threads, 64 tokens per client
#   TYPE=q8_0 THREADS=2 TOKENS=64 PROMPT_TOKENS=2000 CLIENTS=1,4,8 bench/run_serve_bench.sh
#   MODEL=path/to/file.gguf bench/run_serve_bench.sh  # any GGUF both servers read
#   TOKENS=4 CLIENTS=1 PROMPT_TOKENS=64 TRIAD_MIB=64 bench/run_serve_bench.sh   # smoke run
# Other knobs: SERVERS=dseek,llama-server (either alone), DSEEK_ARGS, LLAMA_ARGS,
# OUT (results JSON, default build/bench/serve-results.json).
#
# What it needs, made when missing: build/release (dseek, dseek_triad,
# dseek_make_random_gguf: cmake --build --preset release), the model
# (build/bench/v2lite-random-TYPE.gguf, ~9 GB Q4_0 / ~17 GB Q8_0, made by
# dseek_make_random_gguf with the deepseek-llm vocabulary from llama.cpp's
# models/ folder), and llama-server (bench/build_llamacpp.sh, into build/llama.cpp).
# Run it on an otherwise idle machine; it prints the load average before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=build/bench
BIN=build/release
THREADS=${THREADS:-2}
TYPE=${TYPE:-q4_0}
MODEL=${MODEL:-$OUT_DIR/v2lite-random-$TYPE.gguf}
SERVERS=${SERVERS:-dseek,llama-server}
LLAMA_SERVER=build/llama.cpp/build/bin/llama-server
mkdir -p "$OUT_DIR"

for tool in "$BIN/src/dseek" "$BIN/bench/dseek_triad" "$BIN/bench/dseek_make_random_gguf"; do
  [ -x "$tool" ] || { echo "missing $tool: cmake --preset release && cmake --build --preset release" >&2; exit 1; }
done
if [[ ,$SERVERS, == *,llama-server,* ]] && [ ! -x "$LLAMA_SERVER" ]; then
  bench/build_llamacpp.sh llama-server
fi
if [ ! -f "$MODEL" ]; then
  vocab=build/llama.cpp/models/ggml-vocab-deepseek-llm.gguf
  [ -f "$vocab" ] || bench/build_llamacpp.sh llama-server  # clones the source, which has the vocab file
  echo "generating $MODEL" >&2
  "$BIN/bench/dseek_make_random_gguf" --type "$TYPE" --vocab "$vocab" --out "$MODEL"
fi

BW=$("$BIN/bench/dseek_triad" -t "$THREADS" --mib "${TRIAD_MIB:-512}" --json)
echo "memory bandwidth, $THREADS threads: $BW" >&2
READ_GBS=$(node -e 'console.log(JSON.parse(process.argv[1]).read_gbs)' "$BW")

node bench/serve_bench.mjs --model "$MODEL" --servers "$SERVERS" \
  --dseek "$BIN/src/dseek" --dseek-args "${DSEEK_ARGS:-}" \
  --llama-server "$LLAMA_SERVER" --llama-args "${LLAMA_ARGS:-}" \
  --bandwidth "$READ_GBS" --triad "$BIN/bench/dseek_triad" --triad-mib "${TRIAD_MIB:-512}" --threads "$THREADS" --clients "${CLIENTS:-1,4,8}" \
  --tokens "${TOKENS:-64}" --prompt-tokens "${PROMPT_TOKENS:-2000}" --out "${OUT:-$OUT_DIR/serve-results.json}"
