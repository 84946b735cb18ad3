"""Collect a text corpus from what this machine's Debian and npm packages carry, without internet.

    python3 tools/corpus/collect.py --out build/corpus [--node-modules node_modules] [--max-mb 40]

Sources (each document keeps its source, package and licence in sources.tsv):
  debian-doc   /usr/share/doc/<package>/ README, NEWS, *.txt, *.md (plain or .gz); changelogs and
               copyright files are left out. Licence: the License: fields of
               /usr/share/doc/<package>/copyright (Debian's machine-readable format).
  man          English manual pages (/usr/share/man/man{1,5,7,8}), roff markup stripped by the small
               converter below. Package from /var/lib/dpkg/info/*.list, licence as above.
  python-doc   Docstrings of the Python standard library (/usr/lib/python3.*), PSF-2.0.
  npm-readme   README.md of the npm packages in node_modules, licence from their package.json.
  wordlist     /usr/share/dict/words (Debian's wamerican, if installed), in documents of 500 words.
Documents are de-duplicated, must be valid UTF-8 and at least 200 characters; 2% (by a hash of
the text) go to validation.jsonl, the rest to train.jsonl, in a fixed shuffled order. Output:
train.jsonl and validation.jsonl ({"text": ..., "source": ...} per line), sources.tsv, summary.json.
Deterministic for a given machine.
"""

import argparse
import ast
import glob
import gzip
import hashlib
import json
import os
import random
import re
import sys

MIN_CHARS = 200
MAX_CHARS = 100_000      # longer documents are cut at a paragraph boundary
MAX_MAN_PER_PACKAGE = 40  # some packages ship thousands of near-identical pages


def read_maybe_gz(path, limit=2 << 20):
    try:
        if os.path.getsize(path) > limit:
            return None
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            data = f.read(limit * 8)
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None


_licence_cache = {}


def debian_licence(package):
    """Short licence names from a DEP-5 copyright file ("GPL-2+, BSD-3-clause"), or 'unknown'."""
    if package in _licence_cache:
        return _licence_cache[package]
    names = []
    text = read_maybe_gz(f"/usr/share/doc/{package}/copyright") or ""
    for line in text.splitlines():
        if line.startswith("License:"):
            name = line[len("License:"):].strip()
            if name and name not in names:
                names.append(name)
    result = ", ".join(names[:4]) if names else ("see /usr/share/doc/%s/copyright" % package if text else "unknown")
    _licence_cache[package] = result
    return result


def dpkg_owners():
    """path -> package, from dpkg's file lists."""
    owners = {}
    for lst in glob.glob("/var/lib/dpkg/info/*.list"):
        package = os.path.basename(lst)[:-5].split(":")[0]
        try:
            with open(lst, encoding="utf-8", errors="replace") as f:
                for line in f:
                    owners[line.rstrip("\n")] = package
        except OSError:
            pass
    return owners


# ---------------------------------------------------------------------------------------------
# roff (man pages) to plain text: enough of the man macros for readable prose.

_ESCAPES = [(r"\\f\[[A-Z]*\]|\\f\(..|\\f[BIRPCW0-9]", ""), (r"\\\(em|\\\(en", "-"), (r"\\\(bu", "*"),
            (r"\\\((lq|rq|dq)", '"'), (r"\\\((oq|cq|aq)", "'"), (r"\\\(co", "(c)"), (r"\\\(..", ""),
            (r"\\\[[^\]]*\]", ""), (r"\\-", "-"), (r"\\e", "\\\\"), (r"\\&|\\:|\\%|\\\||\\\^|\\c", ""),
            (r"\\s[-+]?\d+", ""), (r"\\\*\(..|\\\*\[[^\]]*\]|\\\*.", ""), (r"\\ ", " "), (r"\\n\(..|\\n.", ""),
            (r'\\".*', "")]
_ESCAPE_RE = [(re.compile(a), b) for a, b in _ESCAPES]


def roff_to_text(src):
    out, para = [], []

    def flush():
        if para:
            out.append(" ".join(para))
            para.clear()

    for raw in src.splitlines():
        line = raw
        for rx, rep in _ESCAPE_RE:
            line = rx.sub(rep, line)
        if raw.startswith((".", "'")):
            parts = line[1:].strip().split(None, 1)
            if not parts:
                continue
            macro, rest = parts[0], (parts[1] if len(parts) > 1 else "")
            rest = rest.replace('"', "").strip()
            if macro in ("SH", "SS"):
                flush()
                out.append(rest.title() if macro == "SH" else rest)
            elif macro in ("PP", "P", "LP", "TP", "IP", "sp", "br", "HP"):
                flush()
                if macro == "IP" and rest:
                    para.append(rest.split()[0])
            elif macro in ("B", "I", "SM", "SB"):
                para.append(rest)
            elif macro in ("BR", "RB", "IR", "RI", "BI", "IB"):
                para.append("".join(rest.split()))
            elif macro == "TH":
                flush()
                out.append(rest.split()[0] if rest else "")
            continue
        if line.strip():
            para.append(line.strip())
        else:
            flush()
    flush()
    return "\n\n".join(p for p in out if p.strip())


# ---------------------------------------------------------------------------------------------
# Sources

def debian_docs():
    for pkg_dir in sorted(glob.glob("/usr/share/doc/*/")):
        package = os.path.basename(pkg_dir.rstrip("/"))
        for path in sorted(glob.glob(pkg_dir + "*")):
            name = os.path.basename(path).lower()
            if "changelog" in name or name.startswith("copyright") or os.path.isdir(path):
                continue
            base = name[:-3] if name.endswith(".gz") else name
            if not (base.startswith(("readme", "news", "faq", "todo", "usage", "intro")) or base.endswith((".txt", ".md"))):
                continue
            text = read_maybe_gz(path)
            if text:
                yield {"source": "debian-doc", "path": path, "package": package, "licence": debian_licence(package), "text": text}


def man_pages(owners):
    per_package = {}
    for section in ("1", "5", "7", "8"):
        for path in sorted(glob.glob(f"/usr/share/man/man{section}/*")):
            package = owners.get(path, "unknown")
            if per_package.get(package, 0) >= MAX_MAN_PER_PACKAGE:
                continue
            src = read_maybe_gz(path)
            if not src or src.lstrip().startswith(".so "):
                continue  # a link to another page
            per_package[package] = per_package.get(package, 0) + 1
            yield {"source": "man", "path": path, "package": package, "licence": debian_licence(package),
                   "text": roff_to_text(src)}


def python_docstrings():
    roots = sorted(glob.glob("/usr/lib/python3.[0-9]*/"))
    if not roots:
        return
    root = roots[-1]
    for path in sorted(glob.glob(root + "**/*.py", recursive=True)):
        if "/test" in path[len(root):] or "/idlelib/" in path or "site-packages" in path:
            continue
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read())
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        parts = []
        for node in [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]:
            doc = ast.get_docstring(node)
            if doc and len(doc) > 80:
                title = getattr(node, "name", os.path.basename(path)[:-3])
                parts.append(f"{title}\n\n{doc}")
        if parts:
            yield {"source": "python-doc", "path": path, "package": "python3-stdlib", "licence": "PSF-2.0",
                   "text": "\n\n".join(parts)}


def npm_readmes(node_modules):
    if not node_modules or not os.path.isdir(node_modules):
        return
    for pkg_json in sorted(glob.glob(os.path.join(node_modules, "**", "package.json"), recursive=True)):
        folder = os.path.dirname(pkg_json)
        readmes = [p for p in glob.glob(os.path.join(folder, "*")) if os.path.basename(p).lower() in ("readme.md", "readme")]
        if not readmes:
            continue
        try:
            with open(pkg_json, encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError):
            continue
        text = read_maybe_gz(readmes[0])
        if text:
            yield {"source": "npm-readme", "path": readmes[0], "package": meta.get("name", folder),
                   "licence": str(meta.get("license", "unknown")), "text": text}


def word_lists():
    path = "/usr/share/dict/words"
    text = read_maybe_gz(path, limit=8 << 20)
    if not text:
        return
    words = [w for w in text.split() if "'" not in w]
    for i in range(0, len(words), 500):
        yield {"source": "wordlist", "path": f"{path}#{i // 500}", "package": "wamerican",
               "licence": debian_licence("wamerican"), "text": " ".join(words[i:i + 500])}


def clean(text):
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    text = re.sub(r"[ \u00a0]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = "".join(ch for ch in text if ch == "\n" or ch >= " " or ch == "\t")
    if len(text) > MAX_CHARS:
        cut = text.rfind("\n\n", 0, MAX_CHARS)
        text = text[:cut if cut > MAX_CHARS // 2 else MAX_CHARS]
    return text.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--node-modules", default="node_modules")
    ap.add_argument("--max-mb", type=float, default=40.0, help="stop adding documents after this many MB")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    owners = dpkg_owners()
    seen, docs, rows = set(), [], []
    budget = int(args.max_mb * 1e6)
    total = 0
    # Interleave sources so a size limit keeps a mix of all of them.
    generators = [debian_docs(), python_docstrings(), npm_readmes(args.node_modules), man_pages(owners), word_lists()]
    while generators and total < budget:
        for g in list(generators):
            doc = next(g, None)
            if doc is None:
                generators.remove(g)
                continue
            text = clean(doc["text"])
            digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
            if len(text) < MIN_CHARS or digest in seen:
                continue
            seen.add(digest)
            docs.append((digest, doc["source"], text))
            rows.append((doc["source"], doc["package"], doc["licence"], doc["path"], len(text.encode("utf-8"))))
            total += len(text.encode("utf-8"))
    random.Random(1234).shuffle(docs)
    counts = {}
    with open(os.path.join(args.out, "train.jsonl"), "w", encoding="utf-8") as train, \
         open(os.path.join(args.out, "validation.jsonl"), "w", encoding="utf-8") as val:
        for digest, source, text in docs:
            split = "validation" if int(digest[:8], 16) % 50 == 0 else "train"
            (val if split == "validation" else train).write(json.dumps({"text": text, "source": source}, ensure_ascii=False) + "\n")
            c = counts.setdefault(source, {"train_docs": 0, "validation_docs": 0, "bytes": 0})
            c[split + "_docs"] += 1
            c["bytes"] += len(text.encode("utf-8"))
    with open(os.path.join(args.out, "sources.tsv"), "w", encoding="utf-8") as f:
        f.write("source\tpackage\tlicence\tpath\tbytes\n")
        for r in rows:
            f.write("\t".join(str(x).replace("\t", " ") for x in r) + "\n")
    licences = {}
    for source, package, licence, path, size in rows:
        licences[licence] = licences.get(licence, 0) + size
    summary = {"bytes": total, "documents": len(docs), "by_source": counts,
               "top_licences": sorted(licences.items(), key=lambda kv: -kv[1])[:25]}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps({"bytes": total, "documents": len(docs), "by_source": counts}), file=sys.stderr)


if __name__ == "__main__":
    main()
