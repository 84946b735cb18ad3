#!/bin/sh
# Builds llama.cpp's llama-bench and llama-server, the two programs the
# benchmarks compare dseek with (bench/compare_llamacpp.py, bench/run_serve_bench.sh),
# from the source that node-llama-cpp@3.22.1 carries (a git bundle in
# node_modules; see package.json; `npm ci` must have run), into
# build/llama.cpp (untracked): source in build/llama.cpp, binaries in
# build/llama.cpp/build/bin.
#
# CMake Release with GGML_NATIVE=ON, i.e. -march=native for THIS machine:
# llama.cpp's own default for a local build, so it is compared as its users
# run it (dseek itself never builds with -march=native; it picks its kernels
# from CPUID at start-up). No network: no libcurl/OpenSSL, no prebuilt web UI.
#
#   JOBS=2 bench/build_llamacpp.sh [TARGET...]    (default: llama-bench llama-server)
# Incremental: an existing build folder is reconfigured only to switch the
# server on, and only the named targets are built. Prints llama-bench --version.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bundle="$root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
src="$root/build/llama.cpp"
jobs=${JOBS:-2}
[ $# -gt 0 ] || set -- llama-bench llama-server
if [ ! -d "$src/.git" ]; then
  [ -f "$bundle" ] || { echo "missing $bundle: run npm ci" >&2; exit 1; }
  git clone -q "$bundle" "$src"
fi
# build/llama.cpp may be a symbolic link to a tree built elsewhere: CMake
# must see the path it was configured with, or ninja rebuilds everything.
src=$(cd "$src" && pwd -P)
if ! grep -qs '^LLAMA_BUILD_SERVER:BOOL=ON' "$src/build/CMakeCache.txt" ||
   ! grep -qs '^LLAMA_USE_PREBUILT_UI:BOOL=OFF' "$src/build/CMakeCache.txt"; then
  cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF >/dev/null
fi
cmake --build "$src/build" -j "$jobs" --target "$@"
[ ! -x "$src/build/bin/llama-bench" ] || "$src/build/bin/llama-bench" --version
