// Makes tests/data/tokenizers/llamacpp-vocab/<name>.json: the part of one of
// llama.cpp's vocab-only GGUF files (models/ggml-vocab-<name>.gguf, with the
// test strings of <name>.gguf.inp and the ids Hugging Face's tokenizer gave
// for them, <name>.gguf.out) that those strings can reach, small enough to
// commit.
//
//   node tools/tokenizer-reference/gguf_vocab_subset.mjs /work/shared/fixtures/vocab deepseek-llm deepseek-coder qwen2 llama-bpe
//
// Why a subset gives the same ids: BPE only ever builds tokens that are
// substrings of the text, so keeping every token whose bytes occur in the
// test strings (and every merge among kept tokens, in the original order)
// keeps every merge the full vocabulary would apply; the merges it drops are
// never applicable. Token ids are kept as they are.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

// ---- a minimal GGUF metadata reader (header and key/values only)
function readGgufMetadata(file) {
  const buf = fs.readFileSync(file);
  let off = 0;
  const u32 = () => { const v = buf.readUInt32LE(off); off += 4; return v; };
  const u64 = () => { const v = buf.readBigUInt64LE(off); off += 8; return Number(v); };
  const str = () => { const n = u64(); const s = buf.subarray(off, off + n); off += n; return s; };
  if (buf.toString("latin1", 0, 4) !== "GGUF") throw new Error(`${file}: not a GGUF file`);
  off = 4;
  const version = u32();
  if (version < 2) throw new Error(`${file}: GGUF version ${version} not supported`);
  u64(); // tensor count
  const kvCount = u64();
  const sizes = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const value = (type) => {
    switch (type) {
      case 4: return u32();
      case 5: { const v = buf.readInt32LE(off); off += 4; return v; }
      case 7: { const v = buf[off] !== 0; off += 1; return v; }
      case 8: return str();
      case 9: {
        const t = u32();
        const n = u64();
        const arr = [];
        for (let i = 0; i < n; i++) arr.push(value(t));
        return arr;
      }
      default:
        if (!(type in sizes)) throw new Error(`${file}: unknown GGUF value type ${type}`);
        off += sizes[type];
        return null;
    }
  };
  const kv = {};
  for (let i = 0; i < kvCount; i++) {
    const key = str().toString("utf8");
    kv[key] = value(u32());
  }
  return kv;
}

// GPT-2's byte alphabet, to find the raw bytes of a token.
const byteOfChar = new Map();
{
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    byteOfChar.set(printable ? b : next++, b);
  }
}
function rawBytes(token) {
  const out = [];
  for (const ch of token) {
    const b = byteOfChar.get(ch.codePointAt(0));
    if (b === undefined) return null;
    out.push(b);
  }
  return Buffer.from(out);
}

function subset(dir, name) {
  const gguf = path.join(dir, `ggml-vocab-${name}.gguf`);
  const kv = readGgufMetadata(gguf);
  const inp = fs.readFileSync(`${gguf}.inp`, "utf8").split("\n__ggml_vocab_test__\n");
  inp.pop(); // the file ends with a separator
  const out = fs.readFileSync(`${gguf}.out`, "utf8").split("\n");
  if (out.length < inp.length) throw new Error(`${gguf}.out: ${out.length} lines for ${inp.length} strings`);
  const tests = inp.map((text, i) => ({
    text,
    ids: out[i].trim() === "" ? [] : out[i].trim().split(/\s+/).map(Number),
  }));
  const haystack = Buffer.concat(tests.flatMap((t) => [Buffer.from(t.text, "utf8"), Buffer.from([0])]));

  const tokens = kv["tokenizer.ggml.tokens"].map((b) => b.toString("utf8"));
  const types = kv["tokenizer.ggml.token_type"] ?? tokens.map(() => 1);
  const bos = kv["tokenizer.ggml.bos_token_id"] ?? -1;
  const eos = kv["tokenizer.ggml.eos_token_id"] ?? -1;
  const keep = new Set();
  tokens.forEach((t, id) => {
    const added = types[id] === 3 || types[id] === 4;
    const bytes = added ? Buffer.from(t, "utf8") : rawBytes(t);
    if (id === bos || id === eos || (bytes && bytes.length > 0 && haystack.includes(bytes))) keep.add(id);
  });
  const kept = new Set([...keep].map((id) => tokens[id]));
  const merges = kv["tokenizer.ggml.merges"]
    .map((b) => b.toString("utf8"))
    .filter((m) => {
      const sp = m.indexOf(" ", 1);
      const a = m.slice(0, sp), b = m.slice(sp + 1);
      return kept.has(a) && kept.has(b) && kept.has(a + b);
    });
  return {
    format: "dseek-gguf-vocab-subset",
    version: 1,
    made_by: "tools/tokenizer-reference/gguf_vocab_subset.mjs",
    source: `llama.cpp models/ggml-vocab-${name}.gguf with ${name}.gguf.inp/.out (ids from Hugging Face's tokenizer, no BOS)`,
    model: kv["tokenizer.ggml.model"].toString("utf8"),
    pre: kv["tokenizer.ggml.pre"].toString("utf8"),
    n_tokens: tokens.length,
    bos_id: bos,
    eos_id: eos,
    add_bos: kv["tokenizer.ggml.add_bos_token"] ?? false,
    add_eos: kv["tokenizer.ggml.add_eos_token"] ?? false,
    tokens: [...keep].sort((a, b) => a - b).map((id) => [id, tokens[id], types[id]]),
    merges,
    tests,
  };
}

const [dir, ...names] = process.argv.slice(2);
if (!dir || names.length === 0) {
  console.error("usage: gguf_vocab_subset.mjs VOCAB_DIR NAME...");
  process.exit(2);
}
const outDir = path.join(root, "tests/data/tokenizers/llamacpp-vocab");
fs.mkdirSync(outDir, { recursive: true });
for (const name of names) {
  const doc = subset(dir, name);
  const file = path.join(outDir, `${name}.json`);
  // One token / merge / test per line: small diffs, readable.
  const lines = [
    "{",
    ...Object.entries(doc)
      .filter(([k]) => !["tokens", "merges", "tests"].includes(k))
      .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`),
    '  "tokens": [',
    doc.tokens.map((t) => "    " + JSON.stringify(t)).join(",\n"),
    "  ],",
    '  "merges": [',
    doc.merges.map((m) => "    " + JSON.stringify(m)).join(",\n"),
    "  ],",
    '  "tests": [',
    doc.tests.map((t) => "    " + JSON.stringify(t)).join(",\n"),
    "  ]",
    "}",
  ];
  fs.writeFileSync(file, lines.join("\n") + "\n");
  console.error(`${file}: ${doc.tokens.length} of ${doc.n_tokens} tokens, ${doc.merges.length} merges, ${doc.tests.length} tests`);
}
