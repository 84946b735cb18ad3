#!/usr/bin/env bash
# Builds llama.cpp's llama-server for the serving benchmark, from the source
# that the npm package node-llama-cpp@3.22.1 carries (llama.cpp release
# v0.5.0 as a git bundle in node_modules), into build/bench/llama.cpp (not
# tracked).
# Release build for this CPU (GGML_NATIVE), as a user of llama.cpp would.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/bench
JOBS=${JOBS:-2}
mkdir -p "$OUT"
if [ ! -x "$OUT/llama.cpp/build/bin/llama-server" ]; then
  if [ ! -d "$OUT/llama.cpp" ]; then
    # package.json installs node-llama-cpp@3.22.1 (npm ci); its bundle is the source.
    BUNDLE=node_modules/node-llama-cpp/llama/gitRelease.bundle
    [ -f "$BUNDLE" ] || { echo "run npm ci first ($BUNDLE is missing)" >&2; exit 1; }
    git clone --quiet "$BUNDLE" "$OUT/llama.cpp"
  fi
  cmake -S "$OUT/llama.cpp" -B "$OUT/llama.cpp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON >/dev/null
  cmake --build "$OUT/llama.cpp/build" --target llama-server -j "$JOBS"
fi
echo "$OUT/llama.cpp/build/bin/llama-server"
