#!/usr/bin/env bash
# Builds llama.cpp's llama-server for the serving benchmark, from the source
# that the npm package node-llama-cpp@3.22.1 carries (llama.cpp release
# v0.5.0 as a git bundle), into build/bench/llama.cpp (not tracked).
# Release build for this CPU (GGML_NATIVE), as a user of llama.cpp would.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/bench
JOBS=${JOBS:-2}
mkdir -p "$OUT"
if [ ! -x "$OUT/llama.cpp/build/bin/llama-server" ]; then
  if [ ! -d "$OUT/llama.cpp" ]; then
    if [ ! -f "$OUT/package/llama/gitRelease.bundle" ]; then
      (cd "$OUT" && npm pack --silent node-llama-cpp@3.22.1 >/dev/null && tar -xzf node-llama-cpp-3.22.1.tgz package/llama/gitRelease.bundle)
    fi
    git clone --quiet "$OUT/package/llama/gitRelease.bundle" "$OUT/llama.cpp"
  fi
  cmake -S "$OUT/llama.cpp" -B "$OUT/llama.cpp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON >/dev/null
  cmake --build "$OUT/llama.cpp/build" --target llama-server -j "$JOBS"
fi
echo "$OUT/llama.cpp/build/bin/llama-server"
