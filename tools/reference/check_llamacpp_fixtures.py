"""Check the reference (model.py) against llama.cpp on the shared fixtures.

For every /work/shared/fixtures/models/*/hf folder: run model.forward on that fixture's
tokens.txt and compare with llama.cpp's logits-llamacpp-f32gguf.f32 ([80][vocab] float32 LE),
then run 32 greedy steps and compare with greedy-llamacpp.txt. Passes when every position has
rel RMS < 1e-5 (||ref - llama.cpp|| / ||llama.cpp||) and the greedy ids are identical.

    /usr/bin/python3 tools/reference/check_llamacpp_fixtures.py [FIXTURES_DIR]
"""

import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
import model

DEFAULT_FIXTURES = "/work/shared/fixtures/models"
MAX_REL_RMS = 1e-5


def read_ids(path):
    with open(path) as f:
        return [int(s) for s in f.read().strip().split(",") if s]


def check(folder):
    config, weights = model.load(os.path.join(folder, "hf"))
    tokens = read_ids(os.path.join(folder, "tokens.txt"))
    vocab = config["vocab_size"]
    expected = np.fromfile(os.path.join(folder, "logits-llamacpp-f32gguf.f32"), dtype="<f4")
    expected = torch.from_numpy(expected.reshape(len(tokens), vocab).astype(np.float64))
    with torch.no_grad():
        logits = model.forward(config, weights, tokens)
    diff = logits - expected
    rel_rms = diff.norm(dim=-1) / expected.norm(dim=-1)
    ids, _ = model.greedy(config, weights, tokens, 32)
    want = read_ids(os.path.join(folder, "greedy-llamacpp.txt"))
    return {
        "max_rel_rms": float(rel_rms.max()),
        "max_abs_diff": float(diff.abs().max()),
        "top1_equal": int((logits.argmax(-1) == expected.argmax(-1)).sum()),
        "positions": len(tokens),
        "greedy_equal": ids == want,
    }


def main():
    torch.set_num_threads(1)
    root = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FIXTURES
    names = sorted(n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n, "hf")))
    if not names:
        print(f"no fixtures under {root}")
        return 1
    ok = True
    print(f"{'fixture':<26} {'max rel RMS':>12} {'max |diff|':>12} {'top-1':>7} greedy")
    for name in names:
        r = check(os.path.join(root, name))
        passed = r["max_rel_rms"] < MAX_REL_RMS and r["greedy_equal"]
        ok = ok and passed
        print(f"{name:<26} {r['max_rel_rms']:12.3e} {r['max_abs_diff']:12.3e} "
              f"{r['top1_equal']:>3}/{r['positions']:<3} {'equal' if r['greedy_equal'] else 'DIFFERENT'}"
              f"{'' if passed else '   FAIL'}")
    print("PASS" if ok else "FAIL", f"(rel RMS < {MAX_REL_RMS:g} at every position, greedy ids identical)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
