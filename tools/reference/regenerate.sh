#!/usr/bin/env bash
# Regenerate the tiny test models (tests/data/models/) and their golden logits (tests/golden/)
# from tools/reference/tiny_configs.py. Deterministic: two runs give byte-identical files.
# Needs PyTorch and numpy (Debian: python3-torch python3-numpy); override with PYTHON=...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="${PYTHON:-/usr/bin/python3}"
export PYTHONDONTWRITEBYTECODE=1  # keep tools/reference free of __pycache__
"$py" "$here/make_tiny_models.py"
"$py" "$here/make_goldens.py"
echo
echo "To check the reference itself against llama.cpp on the shared fixtures, run:"
echo "  $py $here/check_llamacpp_fixtures.py [/work/shared/fixtures/models]"
