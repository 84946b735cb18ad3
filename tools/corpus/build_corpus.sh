#!/usr/bin/env bash
# Builds dseek's offline training corpus (kept out of git) from what this
# machine's Debian and npm packages carry, plus generated reasoning tasks.
#
#   tools/corpus/build_corpus.sh [OUT=build/corpus]      CORPUS_MB=40 REASONING_TASKS=20000
#
# OUT/train.jsonl, OUT/validation.jsonl   documents {"text", "source"}
# OUT/sources.tsv, OUT/summary.json        where each document came from and its licence
# OUT/reasoning/                           tasks (with checkable answers) and their chat renderings
# The word list comes from Debian's wamerican (apt-get install wamerican) when installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-build/corpus}"
py="${PYTHON:-python3}"
mkdir -p "$out"
nice -n 5 "$py" tools/corpus/collect.py --out "$out" --max-mb "${CORPUS_MB:-40}" --node-modules node_modules
"$py" tools/corpus/reasoning_tasks.py --self-test
"$py" tools/corpus/reasoning_tasks.py --out "$out/reasoning" --train "${REASONING_TASKS:-20000}" --eval 1000
echo "corpus: $(du -sh "$out" | cut -f1) in $out (licences: $out/sources.tsv, $out/summary.json)"
