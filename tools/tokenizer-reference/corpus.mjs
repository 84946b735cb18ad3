// The tokenizer test corpus: hand-written texts that exercise each part of
// byte-level BPE tokenization, invalid UTF-8 byte strings, and 10,000 seeded
// random Unicode strings. Deterministic: the same entries on every machine.
//
// Each entry is {name, bytes: Uint8Array}. The reference script decodes the
// bytes with TextDecoder (invalid UTF-8 -> U+FFFD per maximal subpart) before
// tokenizing; dseek gets the raw bytes.

import fs from "node:fs";

const encoder = new TextEncoder();

// ---- seeded PRNG: xoshiro128** (Blackman & Vigna), seeded by splitmix32.
export function makeRng(seed) {
  let s = seed >>> 0;
  const splitmix32 = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const st = [splitmix32(), splitmix32(), splitmix32(), splitmix32()];
  const rotl = (x, k) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next = () => {
    const result = Math.imul(rotl(Math.imul(st[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (st[1] << 9) >>> 0;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 11);
    for (let i = 0; i < 4; i++) st[i] >>>= 0;
    return result;
  };
  return {
    u32: next,
    below: (n) => next() % n, // n is small: the modulo bias does not matter here
    pick: (arr) => arr[next() % arr.length],
  };
}

// ---- hand-written texts

const english = [
  "Hello world",
  " Hello world",
  "Hello, world! How are you today?",
  "The quick brown fox jumps over the lazy dog.",
  "I'm sure you'll see it's not what we'd planned, isn't it? They've gone; we're here.",
  "DON'T SHOUT. I'M FINE. WE'LL SEE. IT'S OK. THEY'RE HERE. I'VE BEEN. HE'D GO.",
  "it's its it 's 'tis rock'n'roll o'clock ''quoted'' 'single' \"double\"",
  "Mr. Smith paid $1,234.56 for 3.5 kg of apples on 2024-03-15 at 10:30am (about 20% off).",
  "e.g. i.e. etc... -- dash — em-dash – en-dash … ellipsis",
  "URL: https://example.com/path?q=a+b&x=%20#frag and mail@example.org",
  "# Heading\n\n* item one\n* item two\n\n> quote\n\n**bold** _italic_ `code`",
  "    indented four\n\tindented tab\n        eight spaces",
];

const chinese = [
  "你好，世界！",
  "深度求索（DeepSeek）是一家人工智能公司，成立于二〇二三年。",
  "我们今天去北京天安门广场看升旗仪式，然后吃了烤鸭。",
  "繁體中文：這是一個測試句子，包含「引號」和《書名號》。",
  "中文English混合text测试123数字",
  "数学公式：x² + y² = z²，其中 x=3，y=4。",
];

const japanese = [
  "こんにちは世界",
  "日本語のテキストを正しくトークン化できるかどうかを確認します。",
  "カタカナとひらがなと漢字が混ざった文章です。ｶﾀｶﾅ（半角）もあります。",
  "東京都渋谷区１－２－３　ＡＢＣビル４階",
  "「吾輩は猫である。名前はまだ無い。」",
];

const otherScripts = [
  "안녕하세요, 세계! 한국어 텍스트입니다.",
  "Привет, мир! Это тест на русском языке.",
  "Γειά σου κόσμε! Ελληνικά κείμενα.",
  "مرحبا بالعالم! هذا نص عربي.",
  "שלום עולם! זהו טקסט בעברית.",
  "नमस्ते दुनिया! यह हिंदी पाठ है।",
  "สวัสดีชาวโลก นี่คือข้อความภาษาไทย",
  "Tiếng Việt có dấu: Xin chào thế giới, đây là một câu thử nghiệm.",
  "Ünïcödé ñ ç ø å ß æ œ Ǆ ǅ ǆ ﬁ ﬂ",
  "e\u0301 e\u0300\u0323 a\u030a o\u0308 (combining marks, NFD)",
  "\u00e9 \u00e8 \u00e5 \u00f6 (precomposed, NFC)",
  "\u1100\u1161\u11a8 (Hangul jamo that NFC composes)",
  "\u212b \u2126 \u00c5 \u03a9 (Angstrom and Ohm signs)",
  "\ufb01 \u2460 \u00bd \u2163 \uff21 (compatibility characters)",
  "ſ long s, 'ſ '\u212a kelvin, STRASSE straße",
];

const code = [
  "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
  "#include <stdio.h>\n\nint main(void) {\n\tprintf(\"Hello, %s!\\n\", \"world\");\n\treturn 0;\n}\n",
  "template <typename T>\nstd::vector<T> f(const std::vector<T>& v) { return {v.rbegin(), v.rend()}; }\n",
  "const add = (a, b) => a + b;\nconsole.log(`sum: ${add(1, 2)}`); // => 3\n",
  "fn main() {\n    let v: Vec<i32> = (1..=10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}\n",
  "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
  "<!DOCTYPE html>\n<html><head><title>Test</title></head>\n<body><p class=\"x\">Hi &amp; bye</p></body></html>\n",
  "{\"name\": \"dseek\", \"version\": [1, 2, 3], \"ok\": true, \"nested\": {\"a\": null}}",
  "SELECT id, name FROM users WHERE age >= 18 AND name LIKE 'A%' ORDER BY id DESC;",
  "#!/bin/bash\nfor f in *.txt; do\n  echo \"$f\" | sed -e 's/a/b/g' >> out.log 2>&1\ndone\n",
  "x = [i**2 for i in range(10) if i % 2 == 0]  # squares\r\ny = {k: v for k, v in zip('abc', [1,2,3])}\r\n",
  "if (a != b && c <= d || e >= f) { x += 1; y -= 2; z *= 3; w /= 4; } // ops\n",
  "    \t  mixed indentation\t\n\t    again\n",
];

const numbers = [];
{
  let digits = "";
  for (let n = 1; n <= 40; n++) {
    digits += String((n * 7) % 10);
    numbers.push(digits);
    numbers.push(`x${digits}y`);
    numbers.push(` ${digits} `);
  }
  numbers.push(
    "0", "00", "000", "0000", "-1", "+42", "3.14159", "-0.5e-10", "6.02e23", "1,234,567,890",
    "1.000.000,00", "0x1F 0b1010 0o777", "2024-03-15T10:30:00Z", "v1.2.3-rc.4",
    "１２３４５６", "١٢٣٤٥", "०१२३४५", "²³¹ ⁴⁵", "Ⅰ Ⅱ Ⅻ ⅽ", "½ ¼ ¾ ⅓", "①②③", "𝟘𝟙𝟚",
    "12abc34", "abc123def456", "1a2b3c", "3.14abc", "$100 €200 £300 ¥400",
  );
}

const whitespace = [
  " ", "  ", "   ", "    ", "        ", "\t", "\t\t", "\t\t\t", "\n", "\n\n", "\n\n\n", "\r", "\r\n",
  "\r\n\r\n", "\n\r", " \n ", "  \n  ", "\t\n\t", " \t \t ", "a  b", "a   b", "a \n b", "a\n\nb",
  "trailing   ", "   leading", "  both  ", "line1\r\nline2\r\n", "line1\rline2\r", "tab\tseparated\tvalues\n",
  "\u00a0nbsp\u00a0\u00a0", "ideographic\u3000space", "em\u2003space thin\u2009space", "nel\u0085line",
  "line\u2028separator\u2029para", "vt\u000bff\u000c", "zero\u200bwidth\u200cjoiners\u200d", "bom\ufeffx",
  "mongolian\u180evowel", "a \u00a0 b", "\u3000\u3000x", " \u0085 ", "end with newline\n", "end with spaces \n  ",
];

const emoji = [
  "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "🇺🇸🇯🇵🇨🇳", "1️⃣ #️⃣", "❤️ ❤", "🧑🏿‍💻 coder",
  "I ❤️ 🍕 and 🍣!", "emoji✨in😀text🎉", "🤖🚀🌍", "👩‍❤️‍💋‍👨", "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland",
];

// Special-token strings of the tokenizers under test, in and around text.
const specials = [
  "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<think>", "</think>",
  "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>",
  "<｜tool▁sep｜>", "<｜tool▁call▁end｜>", "<｜tool▁calls▁end｜>", "<｜▁pad▁｜>",
  "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
  "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>",
  "<|reserved_special_token_5|>",
];
const specialTexts = [
  ...specials,
  ...specials.map((s) => `before${s}after`),
  ...specials.map((s) => ` ${s} `),
  "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜><think>\nreasoning\n</think>\n\nAnswer<｜end▁of▁sentence｜>",
  "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
  "<｜User｜><｜User｜><｜Assistant｜><｜Assistant｜>",
  "<｜User", "User｜>", "<｜Use r｜>", "<|im_start", "im_end|>", "<<|im_end|>>", "<<｜User｜>>", "<thinking>",
  "x<｜fim▁begin｜>def f():<｜fim▁hole｜>    return 1<｜fim▁end｜>y",
  "text\n<|im_end|>\n\n<|im_start|>\n  indented",
  "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
];

const edge = [
  "", "a", "A", "'", "''", "'''", "'s", "'S", "'s's's", "x's", "X'S'LL", "'ll've're", "a'b'c",
  "a".repeat(500), "ab".repeat(200), "9".repeat(300), " ".repeat(200), "\n".repeat(50), "!".repeat(100),
  "...", "?!?!", "!!!???", "a.b.c", "a,b;c:d", "(){}[]<>", "~`!@#$%^&*()_+-=", "\\\\n \\t", "\\u0041",
  "\u0000nul\u0001\u001f\u007f del", "\u0080\u0090\u009f c1 controls", "\ud7ff\ue000\uf8ff\ufffd\ufffe\uffff",
  "\u{10000}\u{1f600}\u{10ffff}", "\u{e0001}\u{e0020}\u{e007f} tags", "\u0378\u0379\u0380 unassigned",
  "a\u0300\u0301\u0302\u0303\u0304\u0305\u0306 stacked marks", "٠١٢ arabic-indic digits ۴۵۶",
  "∀x∈ℝ: x² ≥ 0 ∧ √4 = 2 ≠ π ≈ 3.14", "→ ← ↑ ↓ ⇒ ⇔ ∞ ∑ ∏ ∫", "©®™ §¶ †‡ •", "¡Hola! ¿Qué tal?",
  "«guillemets» „quotes“ ‚single‘ ‹angle›", "！？。，、；：（）【】《》「」『』",
];

// Invalid UTF-8: each must be handled as TextDecoder does (U+FFFD per
// maximal invalid subpart), never crash.
const invalid = [
  [0x80], [0xbf], [0x80, 0x80, 0x80], [0xc0], [0xc1, 0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0xaf],
  [0xf0, 0x80, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80], [0xfe], [0xff], [0xfe, 0xff], [0xe4, 0xb8], [0xe4], [0xf0, 0x9f, 0x98],
  [0xf0, 0x9f], [0xe4, 0xb8, 0x41], [0x41, 0xe4, 0xb8, 0xad, 0xe4, 0xb8], [0xc3, 0x28], [0xa0, 0xa1],
  [0xe2, 0x28, 0xa1], [0xe2, 0x82, 0x28], [0xf0, 0x28, 0x8c, 0xbc], [0xf0, 0x90, 0x28, 0xbc],
  [0xf0, 0x28, 0x8c, 0x28], [0x68, 0x69, 0xff, 0x20, 0x74, 0x68, 0x65, 0x72, 0x65],
  [0x3c, 0xef, 0xbd, 0x9c, 0x55, 0x73, 0x65, 0x72, 0xef, 0xbd, 0x9c], // "<｜User｜" with its ">" missing
  [0x3c, 0xef, 0xbd, 0x9c, 0x55, 0x73, 0x65, 0x72, 0xef, 0xbd, 0x3e], // "<｜User" + broken "｜>"
  [0x20, 0x20, 0xc0, 0x20, 0x20], [0x31, 0x32, 0x80, 0x33, 0x34], [0xe6, 0x97, 0xa5, 0xe6, 0x9c],
];

// ---- random strings

function loadUnicodeGap(dir) {
  const doc = JSON.parse(fs.readFileSync(`${dir}/unicode-after-14.json`, "utf8"));
  return doc.ranges.map(([a, b]) => [parseInt(a, 16), parseInt(b, 16)]);
}

function inRanges(cp, ranges) {
  for (const [a, b] of ranges) if (cp >= a && cp <= b) return true;
  return false;
}

// Pools of code points, each with a weight: mostly what real text holds,
// with a share of anything at all.
const pools = [
  [30, [[0x20, 0x7e]]],
  [8, [[0x09, 0x0d], [0x20, 0x20], [0x85, 0x85], [0xa0, 0xa0], [0x2000, 0x200d], [0x2028, 0x2029], [0x3000, 0x3000]]],
  [5, [[0x30, 0x39], [0x660, 0x669], [0xff10, 0xff19], [0xb2, 0xb3], [0x2160, 0x2188], [0xbc, 0xbe]]],
  [8, [[0xa1, 0x24f], [0x300, 0x36f], [0x1e00, 0x1eff]]],
  [10, [[0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x3000, 0x303f], [0xff01, 0xff60]]],
  [5, [[0x3040, 0x30ff], [0xff61, 0xff9f]]],
  [4, [[0xac00, 0xd7a3], [0x1100, 0x11ff]]],
  [8, [[0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x5ff], [0x600, 0x6ff], [0x900, 0x97f], [0xe00, 0xe7f]]],
  [5, [[0x300, 0x36f], [0x1ab0, 0x1aff], [0x20d0, 0x20ff], [0xfe00, 0xfe0f]]],
  [8, [[0x1f300, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f900, 0x1f9ff], [0x1f3fb, 0x1f3ff], [0x200d, 0x200d], [0xfe0f, 0xfe0f], [0x1f1e6, 0x1f1ff]]],
  [4, [[0x2010, 0x206f], [0x2190, 0x22ff], [0x2500, 0x27bf], [0xa1, 0xbf]]],
  [5, [[0x0, 0xd7ff], [0xe000, 0x10ffff]]],
];
const totalWeight = pools.reduce((s, [w]) => s + w, 0);

function randomCodePoint(rng, gap) {
  for (;;) {
    let r = rng.below(totalWeight);
    let ranges = pools[0][1];
    for (const [w, rs] of pools) {
      if (r < w) {
        ranges = rs;
        break;
      }
      r -= w;
    }
    const size = ranges.reduce((s, [a, b]) => s + (b - a + 1), 0);
    let k = rng.below(size);
    let cp = 0;
    for (const [a, b] of ranges) {
      if (k <= b - a) {
        cp = a + k;
        break;
      }
      k -= b - a + 1;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (inRanges(cp, gap)) continue;
    return cp;
  }
}

export function randomStrings(count, seed, gap) {
  const rng = makeRng(seed);
  const out = [];
  for (let i = 0; i < count; i++) {
    const len = 1 + rng.below(rng.below(4) === 0 ? 120 : 40);
    let s = "";
    for (let k = 0; k < len; k++) {
      // Now and then a special-token string or a run of one character.
      const roll = rng.below(100);
      if (roll === 0) s += rng.pick(specials);
      else if (roll === 1) s += String.fromCodePoint(randomCodePoint(rng, gap)).repeat(2 + rng.below(8));
      else s += String.fromCodePoint(randomCodePoint(rng, gap));
    }
    out.push(s);
  }
  return out;
}

export const RANDOM_SEED = 20250214;
export const RANDOM_COUNT = 10000;

export function buildCorpus(dir) {
  const entries = [];
  const add = (group, texts) =>
    texts.forEach((t, i) => entries.push({ name: `${group}/${i}`, bytes: encoder.encode(t) }));
  add("english", english);
  add("chinese", chinese);
  add("japanese", japanese);
  add("scripts", otherScripts);
  add("code", code);
  add("code-crlf", code.map((c) => c.replace(/\r?\n/g, "\r\n")));
  add("numbers", numbers);
  add("whitespace", whitespace);
  add("emoji", emoji);
  add("special", specialTexts);
  add("edge", edge);
  invalid.forEach((b, i) => entries.push({ name: `invalid-utf8/${i}`, bytes: Uint8Array.from(b) }));
  add("random", randomStrings(RANDOM_COUNT, RANDOM_SEED, loadUnicodeGap(dir)));
  return entries;
}
