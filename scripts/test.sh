#!/usr/bin/env bash
# The whole test suite: a Release build (gcc) with every test, then a clang
# build with AddressSanitizer + UndefinedBehaviorSanitizer that runs the same
# tests again plus each libFuzzer target for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}

echo "== release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS"
echo "== release tests"
ctest --preset release -j "$JOBS"

echo "== sanitizer build (ASan + UBSan, libFuzzer)"
cmake --preset sanitize >/dev/null
cmake --build --preset sanitize -j "$JOBS"
echo "== sanitizer tests and fuzzers"
ctest --preset sanitize -j "$JOBS"
echo "== all tests passed"
