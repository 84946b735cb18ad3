#!/bin/sh
# Builds llama-bench from the llama.cpp source that node-llama-cpp@3.22.1
# carries (llama.cpp release "v0.5.0" as a git bundle; see package.json),
# into build/llama.cpp (untracked): CMake Release with GGML_NATIVE=ON, i.e.
# -march=native for THIS machine (llama.cpp's own choice for a local build;
# dseek itself never uses it). `npm ci` must have run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bundle="$root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
src="$root/build/llama.cpp"
[ -f "$bundle" ] || { echo "missing $bundle: run npm ci" >&2; exit 1; }
[ -d "$src/.git" ] || git clone -q "$bundle" "$src"
cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_APP=OFF
cmake --build "$src/build" -j2 --target llama-bench
"$src/build/bin/llama-bench" --version
