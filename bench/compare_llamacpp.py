#!/usr/bin/env python3
"""dseek against llama.cpp on the same random-weight DeepSeek-V2-Lite-shaped GGUF files.

For each file (Q4_0, Q8_0) the two engines run alternately, REPS times each:
  dseek bench MODEL -p 512 -n 128 -t 2 -r 1 --json
  llama-bench  -m MODEL -p 512 -n 128 -t 2 -r 1 -o json
each under /usr/bin/time (peak resident memory of the process, the mapped
weights included). Reported: the median tokens/s of pp512 and tg128 of each,
their ratio (dseek / llama.cpp), peak RSS, the machine's memory bandwidth
(STREAM-like triad and a read-only pass, 2 threads) and decode speed as a
fraction of the bandwidth bound: bandwidth / bytes of weights read per token.

Usage (from the repository root, after `cmake --build --preset release`):
  bench/compare_llamacpp.py [--reps 5] [--types q4_0,q8_0] [--llama-bench PATH] [--out results.json]

It generates the models (build/bench/*.gguf, ~9 and ~17 GB) and builds
llama.cpp (bench/build_llamacpp.sh) when they are missing. Take measurements
when the machine is otherwise idle (`uptime`): the script prints the load
average before and after.
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "release")
DSEEK = os.path.join(BUILD, "src", "dseek")
MAKE_MODEL = os.path.join(BUILD, "bench", "dseek_make_random_gguf")
TRIAD = os.path.join(BUILD, "bench", "dseek_triad")
LLAMA_DIR = os.path.join(ROOT, "build", "llama.cpp")
LLAMA_BENCH = os.path.join(LLAMA_DIR, "build", "bin", "llama-bench")
MODELS = os.path.join(ROOT, "build", "bench")

# ggml type id -> (block elements, block bytes): the types these files use.
GGML_TYPES = {0: (1, 4), 1: (1, 2), 2: (32, 18), 8: (32, 34), 30: (1, 2)}


def read_gguf_tensors(path):
    """(name, shape outermost first, ggml type) of every tensor in a GGUF file."""
    with open(path, "rb") as f:
        data = f.read(64 << 20)  # the header of these files is far smaller

    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0] if len(v) == 1 else v

    def string():
        nonlocal pos
        n = take("Q")
        s = data[pos:pos + n].decode("utf-8", "replace")
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t in scalar:
            return take(scalar[t])
        if t == 8:
            return string()
        if t == 9:
            inner, n = take("I"), take("Q")
            for _ in range(n):
                value(inner)
            return None
        raise ValueError("unknown GGUF value type %d" % t)

    assert data[:4] == b"GGUF", path
    pos = 4
    take("I")  # version
    n_tensors, n_kv = take("Q"), take("Q")
    for _ in range(n_kv):
        string()
        value(take("I"))
    tensors = []
    for _ in range(n_tensors):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        ggml_type = take("I")
        take("Q")  # offset
        tensors.append((name, list(reversed(dims)), ggml_type))
    return tensors


def tensor_bytes(shape, ggml_type):
    elements, block = GGML_TYPES[ggml_type]
    n = 1
    for d in shape:
        n *= d
    return n // elements * block


def active_bytes_per_token(path, experts_used=6):
    """Bytes of weights one decode step reads: every tensor, but one row of
    the embedding and experts_used of the stacked routed experts."""
    total = 0
    for name, shape, t in read_gguf_tensors(path):
        b = tensor_bytes(shape, t)
        if name == "token_embd.weight":
            b //= shape[0]
        elif "_exps." in name:
            b = b // shape[0] * experts_used
        total += b
    return total


def run_timed(cmd):
    """Runs cmd under /usr/bin/time; returns (stdout, peak RSS in bytes)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr[-3000:]))
    rss_kb = int(r.stderr.strip().splitlines()[-1])
    return r.stdout, rss_kb * 1024


def dseek_run(model, threads, extra):
    out, rss = run_timed([DSEEK, "bench", model, "-p", "512", "-n", "128", "-t", str(threads), "-r", "1", "--json"] + extra)
    res = {t["test"]: t["avg_ts"] for t in json.loads(out)}
    return res["pp512"], res["tg128"], rss


def llama_run(bench, model, threads, extra):
    out, rss = run_timed([bench, "-m", model, "-p", "512", "-n", "128", "-t", str(threads), "-r", "1", "-o", "json"] + extra)
    res = {}
    for t in json.loads(out):
        res["pp" if t["n_prompt"] > 0 else "tg"] = t["avg_ts"]
    return res["pp"], res["tg"], rss


def load():
    return open("/proc/loadavg").read().split()[:3]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--types", default="q4_0,q8_0")
    ap.add_argument("--llama-bench", default=LLAMA_BENCH)
    ap.add_argument("--dseek-args", default="", help="extra arguments for dseek bench, e.g. '--kv-type f32'")
    ap.add_argument("--llama-args", default="", help="extra arguments for llama-bench")
    ap.add_argument("--out", default=os.path.join(MODELS, "results.json"))
    a = ap.parse_args()

    for tool in (DSEEK, MAKE_MODEL, TRIAD):
        if not os.path.exists(tool):
            sys.exit("missing %s: cmake --preset release && cmake --build --preset release" % tool)
    if not os.path.exists(a.llama_bench):
        subprocess.run([os.path.join(ROOT, "bench", "build_llamacpp.sh")], check=True)
    os.makedirs(MODELS, exist_ok=True)
    vocab = os.path.join(LLAMA_DIR, "models", "ggml-vocab-deepseek-llm.gguf")

    results = {"load_before": load(), "llama_bench": a.llama_bench, "threads": a.threads, "models": {}}
    version = subprocess.run([a.llama_bench, "--version"], capture_output=True, text=True)
    results["llama_version"] = (version.stdout + version.stderr).strip()

    bw = json.loads(subprocess.run([TRIAD, "-t", str(a.threads), "--json"], capture_output=True, text=True, check=True).stdout)
    results["bandwidth"] = bw
    print("memory bandwidth, %d threads: triad %.2f GB/s, read %.2f GB/s" % (a.threads, bw["triad_gbs"], bw["read_gbs"]))

    for type_name in a.types.split(","):
        model = os.path.join(MODELS, "v2lite-random-%s.gguf" % type_name)
        if not os.path.exists(model):
            print("generating", model, flush=True)
            subprocess.run([MAKE_MODEL, "--type", type_name, "--vocab", vocab, "--out", model], check=True)
        active = active_bytes_per_token(model)
        runs = {"dseek": [], "llama.cpp": []}
        for rep in range(a.reps):
            # Alternate which engine goes first, so neither always finds the other's page cache state.
            order = ["dseek", "llama.cpp"] if rep % 2 == 0 else ["llama.cpp", "dseek"]
            for engine in order:
                if engine == "dseek":
                    pp, tg, rss = dseek_run(model, a.threads, a.dseek_args.split())
                else:
                    pp, tg, rss = llama_run(a.llama_bench, model, a.threads, a.llama_args.split())
                runs[engine].append({"pp512": pp, "tg128": tg, "peak_rss": rss})
                print("  %s %-9s rep %d: pp512 %7.2f t/s  tg128 %6.2f t/s  peak RSS %.2f GiB" %
                      (type_name, engine, rep, pp, tg, rss / 2**30), flush=True)
        summary = {"file_bytes": os.path.getsize(model), "active_bytes_per_token": active, "runs": runs}
        for engine, rs in runs.items():
            summary[engine] = {
                "pp512_median": statistics.median(r["pp512"] for r in rs),
                "tg128_median": statistics.median(r["tg128"] for r in rs),
                "peak_rss_max": max(r["peak_rss"] for r in rs),
            }
        d, l = summary["dseek"], summary["llama.cpp"]
        summary["pp512_ratio"] = d["pp512_median"] / l["pp512_median"]
        summary["tg128_ratio"] = d["tg128_median"] / l["tg128_median"]
        for engine in ("dseek", "llama.cpp"):
            s = summary[engine]
            s["tg128_fraction_of_read_bound"] = s["tg128_median"] * active / (bw["read_gbs"] * 1e9)
            s["tg128_fraction_of_triad_bound"] = s["tg128_median"] * active / (bw["triad_gbs"] * 1e9)
        results["models"][type_name] = summary

    results["load_after"] = load()
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)

    print("\nload average before %s, after %s" % (" ".join(results["load_before"]), " ".join(results["load_after"])))
    print("llama.cpp: %s (%s)" % (a.llama_bench, results["llama_version"].splitlines()[0] if results["llama_version"] else "?"))
    print("\n| file | engine | pp512 t/s (median) | tg128 t/s (median) | tg128 / bound (triad, read) | peak RSS |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for type_name, s in results["models"].items():
        for engine in ("dseek", "llama.cpp"):
            e = s[engine]
            print("| %s (%.2f GB, %.2f GB/token) | %s | %.2f | %.2f | %.0f%%, %.0f%% | %.2f GiB |" %
                  (type_name, s["file_bytes"] / 1e9, s["active_bytes_per_token"] / 1e9, engine, e["pp512_median"],
                   e["tg128_median"], 100 * e["tg128_fraction_of_triad_bound"], 100 * e["tg128_fraction_of_read_bound"],
                   e["peak_rss_max"] / 2**30))
        print("| %s | dseek / llama.cpp | %.2fx | %.2fx | | %.2fx |" %
              (type_name, s["pp512_ratio"], s["tg128_ratio"],
               s["dseek"]["peak_rss_max"] / s["llama.cpp"]["peak_rss_max"]))
    print("\nresults written to", a.out)


if __name__ == "__main__":
    main()
