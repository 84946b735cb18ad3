"""Procedurally generated reasoning tasks whose answers a rule can check (arithmetic, counting,
sorting, comparing, parity, linear equations, reversing words, list extremes).

    python3 tools/corpus/reasoning_tasks.py --out build/corpus/reasoning [--train 20000] [--eval 1000] [--seed 1]
    python3 tools/corpus/reasoning_tasks.py --self-test

Writes, under --out:
  tasks_train.jsonl, tasks_eval.jsonl  one task per line:
      {"id", "task", "params", "prompt", "answer", "reasoning"}
      params hold what the answer is computed from, so a checker needs nothing else;
  text_train.jsonl, text_eval.jsonl    the tasks as chat documents for pretraining ({"text": ...}):
      <｜User｜>{prompt}<｜Assistant｜><think>\n{reasoning}\n</think>\n\n{answer}
      (the corpus loader frames each document with BOS ... EOS).
check(task, output) takes the text after the last </think> (or all of it), reads the answer from
its last non-empty line, normalises spaces and case, and compares it with the answer recomputed
from params; the next stage (GRPO) rewards exactly that. Deterministic for a given seed.
"""

import argparse
import json
import os
import random
import re
import sys

WORDS_FALLBACK = ("apple banana cherry dragon eagle forest garden harbor island jungle kitten lemon mountain "
                  "notebook orange pepper quartz river strawberry tomato umbrella violin window yellow zebra "
                  "planet rocket silver copper marble candle bridge castle pencil mirror").split()


def load_words():
    try:
        with open("/usr/share/dict/words", encoding="utf-8") as f:
            words = [w.strip() for w in f if re.fullmatch(r"[a-z]{4,10}", w.strip())]
        return words or WORDS_FALLBACK
    except OSError:
        return WORDS_FALLBACK


# ---------------------------------------------------------------------------------------------
# Answers from params (the rules the checker uses).

def solve(task, p):
    if task == "add":
        return str(p["a"] + p["b"])
    if task == "sub":
        return str(p["a"] - p["b"])
    if task == "mul":
        return str(p["a"] * p["b"])
    if task == "count_letter":
        return str(p["word"].count(p["letter"]))
    if task == "sort_numbers":
        return ", ".join(str(x) for x in sorted(p["numbers"], reverse=p["descending"]))
    if task == "compare":
        return str(max(p["a"], p["b"]))
    if task == "parity":
        return "even" if p["n"] % 2 == 0 else "odd"
    if task == "linear_equation":
        return str((p["c"] - p["b"]) // p["a"])
    if task == "reverse_word":
        return p["word"][::-1]
    if task == "list_extreme":
        return str(max(p["numbers"]) if p["which"] == "largest" else min(p["numbers"]))
    if task == "count_words":
        return str(len(p["words"]))
    raise ValueError(task)


# ---------------------------------------------------------------------------------------------
# Generators: params, prompt and a worked solution.

def column_addition(a, b):
    da, db = str(a)[::-1], str(b)[::-1]
    carry, steps, digits = 0, [], []
    for i in range(max(len(da), len(db))):
        x = int(da[i]) if i < len(da) else 0
        y = int(db[i]) if i < len(db) else 0
        s = x + y + carry
        steps.append(f"{x} + {y}" + (f" + {carry}" if carry else "") + f" = {s}, write {s % 10}" +
                     (", carry 1" if s >= 10 else ""))
        digits.append(str(s % 10))
        carry = s // 10
    if carry:
        digits.append("1")
        steps.append("the last carry gives 1")
    return steps, "".join(reversed(digits))


def gen_add(rng, words):
    a, b = rng.randint(10, 99999), rng.randint(10, 99999)
    steps, total = column_addition(a, b)
    reasoning = f"I add {a} and {b} column by column from the right.\n" + "\n".join(steps) + f"\nSo the sum is {total}."
    return {"a": a, "b": b}, f"What is {a} + {b}?", reasoning


def gen_sub(rng, words):
    a, b = rng.randint(100, 99999), rng.randint(10, 9999)
    if b > a:
        a, b = b, a
    reasoning = (f"I subtract {b} from {a}.\n{a} - {b}: take away {b // 100 * 100} first to get {a - b // 100 * 100}, "
                 f"then take away {b % 100} to get {a - b}.\nSo the difference is {a - b}.")
    return {"a": a, "b": b}, f"What is {a} - {b}?", reasoning


def gen_mul(rng, words):
    a, b = rng.randint(11, 999), rng.randint(2, 99)
    tens, ones = b // 10 * 10, b % 10
    lines = [f"I split {b} into {tens} and {ones}."] if tens and ones else [f"I multiply {a} by {b}."]
    if tens and ones:
        lines += [f"{a} x {tens} = {a * tens}", f"{a} x {ones} = {a * ones}", f"{a * tens} + {a * ones} = {a * b}"]
    else:
        lines.append(f"{a} x {b} = {a * b}")
    lines.append(f"So the product is {a * b}.")
    return {"a": a, "b": b}, f"What is {a} x {b}?", "\n".join(lines)


def gen_count_letter(rng, words):
    word = rng.choice(words)
    letter = rng.choice(word) if rng.random() < 0.8 else rng.choice("abcdefghijklmnopqrstuvwxyz")
    marks, n = [], 0
    for ch in word:
        if ch == letter:
            n += 1
            marks.append(f"{ch} ({n})")
        else:
            marks.append(ch)
    reasoning = f"I spell out \"{word}\" and count each '{letter}':\n" + " ".join(marks) + \
        f"\nThe letter '{letter}' appears {n} time{'s' if n != 1 else ''}."
    return {"word": word, "letter": letter}, f"How many times does the letter '{letter}' appear in \"{word}\"?", reasoning


def gen_sort(rng, words):
    numbers = [rng.randint(0, 999) for _ in range(rng.randint(3, 7))]
    descending = rng.random() < 0.3
    order = "descending" if descending else "ascending"
    remaining, picked, lines = list(numbers), [], []
    while remaining:
        x = max(remaining) if descending else min(remaining)
        lines.append(f"The {'largest' if descending else 'smallest'} of {', '.join(map(str, remaining))} is {x}.")
        remaining.remove(x)
        picked.append(x)
    reasoning = "\n".join(lines) + f"\nIn {order} order: {', '.join(map(str, picked))}."
    return ({"numbers": numbers, "descending": descending},
            f"Sort these numbers in {order} order: {', '.join(map(str, numbers))}.", reasoning)


def gen_compare(rng, words):
    a, b = rng.randint(0, 100000), rng.randint(0, 100000)
    while a == b:
        b = rng.randint(0, 100000)
    la, lb = len(str(a)), len(str(b))
    if la != lb:
        why = f"{a} has {la} digits and {b} has {lb} digits, so {max(a, b)} is larger."
    else:
        i = next(k for k in range(la) if str(a)[k] != str(b)[k])
        why = (f"Both have {la} digits. They first differ at digit {i + 1}: {str(a)[i]} against {str(b)[i]}, "
               f"so {max(a, b)} is larger.")
    return {"a": a, "b": b}, f"Which number is larger, {a} or {b}?", why


def gen_parity(rng, words):
    n = rng.randint(0, 10 ** 6)
    last = n % 10
    reasoning = f"The last digit of {n} is {last}, which is {'even' if last % 2 == 0 else 'odd'}, so {n} is " \
                f"{'even' if n % 2 == 0 else 'odd'}."
    return {"n": n}, f"Is {n} even or odd?", reasoning


def gen_linear(rng, words):
    a, x, b = rng.randint(2, 12), rng.randint(-20, 30), rng.randint(-50, 50)
    c = a * x + b
    sb = f"+ {b}" if b >= 0 else f"- {-b}"
    reasoning = (f"Start from {a}x {sb} = {c}.\n" +
                 (f"Subtract {b} from both sides: {a}x = {c - b}.\n" if b >= 0 else f"Add {-b} to both sides: {a}x = {c - b}.\n") +
                 f"Divide both sides by {a}: x = {x}.\nCheck: {a} x {x} {sb} = {c}.")
    return {"a": a, "b": b, "c": c}, f"Solve for x: {a}x {sb} = {c}. Give the value of x.", reasoning


def gen_reverse(rng, words):
    word = rng.choice(words)
    reasoning = f"The letters of \"{word}\" are {' '.join(word)}.\nFrom last to first: {' '.join(word[::-1])}.\n" \
                f"Joined: {word[::-1]}."
    return {"word": word}, f"Write the word \"{word}\" backwards.", reasoning


def gen_extreme(rng, words):
    numbers = [rng.randint(-500, 500) for _ in range(rng.randint(4, 8))]
    which = rng.choice(["largest", "smallest"])
    best, lines = numbers[0], [f"Start with {numbers[0]}."]
    for x in numbers[1:]:
        better = x > best if which == "largest" else x < best
        lines.append(f"{x} is {'' if better else 'not '}{'larger' if which == 'largest' else 'smaller'} than {best}" +
                     (f", keep {x}." if better else "."))
        best = x if better else best
    return ({"numbers": numbers, "which": which},
            f"What is the {which} number in this list: {', '.join(map(str, numbers))}?", "\n".join(lines) + f"\nThe {which} is {best}.")


def gen_count_words(rng, words):
    chosen = [rng.choice(words) for _ in range(rng.randint(3, 12))]
    reasoning = "Counting the words one by one:\n" + "\n".join(f"{i + 1}. {w}" for i, w in enumerate(chosen)) + \
        f"\nThere are {len(chosen)} words."
    return {"words": chosen}, f"How many words are in this list: {' '.join(chosen)}?", reasoning


GENERATORS = {"add": gen_add, "sub": gen_sub, "mul": gen_mul, "count_letter": gen_count_letter,
              "sort_numbers": gen_sort, "compare": gen_compare, "parity": gen_parity,
              "linear_equation": gen_linear, "reverse_word": gen_reverse, "list_extreme": gen_extreme,
              "count_words": gen_count_words}


def make_task(rng, words, index, split):
    task = rng.choice(sorted(GENERATORS))
    params, prompt, reasoning = GENERATORS[task](rng, words)
    answer = solve(task, params)
    return {"id": f"{split}-{index}", "task": task, "params": params, "prompt": prompt, "answer": answer,
            "reasoning": reasoning}


def render(t):
    return f"<｜User｜>{t['prompt']}<｜Assistant｜><think>\n{t['reasoning']}\n</think>\n\n{t['answer']}"


def normalise(s):
    return re.sub(r"\s+", " ", s.strip().strip(".").lower())


def extract_answer(output):
    text = output.rsplit("</think>", 1)[-1]
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""


def check(task, output):
    """True when the model's final answer equals the answer computed from the task's params."""
    return normalise(extract_answer(output)) == normalise(solve(task["task"], task["params"]))


def self_test():
    rng = random.Random(7)
    words = load_words()
    for i in range(2000):
        t = make_task(rng, words, i, "test")
        assert t["answer"] == solve(t["task"], t["params"])
        assert check(t, render(t)), t
        assert check(t, t["answer"] + "\n")
        assert not check(t, render(t) + "x"), t
        wrong = str(int(t["answer"]) + 1) if re.fullmatch(r"-?\d+", t["answer"]) else t["answer"] + "s"
        assert not check(t, f"</think>\n{wrong}"), t
    # Worked solutions end with the right answer inside the reasoning too.
    print("reasoning_tasks: self-test passed (2000 tasks, every generator)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--train", type=int, default=20000)
    ap.add_argument("--eval", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return
    if not args.out:
        ap.error("--out is required")
    os.makedirs(args.out, exist_ok=True)
    words = load_words()
    for split, n, seed in (("train", args.train, args.seed), ("eval", args.eval, args.seed + 1_000_000)):
        rng = random.Random(seed)
        tasks = [make_task(rng, words, i, split) for i in range(n)]
        with open(os.path.join(args.out, f"tasks_{split}.jsonl"), "w", encoding="utf-8") as f:
            for t in tasks:
                f.write(json.dumps(t, ensure_ascii=False) + "\n")
        with open(os.path.join(args.out, f"text_{split}.jsonl"), "w", encoding="utf-8") as f:
            for t in tasks:
                f.write(json.dumps({"text": render(t), "source": "reasoning-" + t["task"]}, ensure_ascii=False) + "\n")
    print(f"reasoning_tasks: {args.train} train and {args.eval} eval tasks in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
