#!/usr/bin/env bash
# Installs everything dseek builds and tests with: Debian packages (apt-get)
# and the npm packages of the test references (npm ci, from package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

PACKAGES=(
  cmake ninja-build g++ pkg-config
  clang libclang-rt-14-dev          # fuzzers (libFuzzer) and sanitizers
  nlohmann-json3-dev libcli11-dev libpcre2-dev libcpp-httplib-dev
  libutf8proc-dev                   # Unicode normalization (tokenizers)
  libgtest-dev libgmock-dev libbenchmark-dev
  tmux                              # terminal-chat tests
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "setup: npm ci (test references)"
npm ci --no-audit --no-fund --loglevel=error
