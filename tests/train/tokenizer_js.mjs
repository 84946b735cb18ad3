// Encodes held-out texts with a tokenizer folder written by `dseek train
// tokenizer`, using Hugging Face's JavaScript tokenizers (two independent
// implementations: @lenml/tokenizers, a transformers.js fork, and
// @huggingface/tokenizers), and renders a conversation with the folder's
// chat template (@huggingface/jinja: the Jinja bundled in @lenml 3.7.2 has
// no str.split); tests/train/tokenizer_trainer_test.cpp compares dseek with
// the result.
//
//   node tests/train/tokenizer_js.mjs TOKENIZER_DIR TEXTS.json OUT.json
import fs from "node:fs";
import path from "node:path";
import { TokenizerLoader } from "@lenml/tokenizers";
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";

const [dir, textsPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error("usage: tokenizer_js.mjs TOKENIZER_DIR TEXTS.json OUT.json");
  process.exit(2);
}
const tokenizerJSON = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
const texts = JSON.parse(fs.readFileSync(textsPath, "utf8"));

const lenml = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
const hf = new Tokenizer(tokenizerJSON, tokenizerConfig);

const out = { lenml: [], lenml_plain: [], hf: [], hf_plain: [], decoded: [] };
for (const text of texts) {
  out.lenml.push(Array.from(lenml.encode(text)));
  out.lenml_plain.push(Array.from(lenml.encode(text, { add_special_tokens: false })));
  out.hf.push(Array.from(hf.encode(text).ids));
  out.hf_plain.push(Array.from(hf.encode(text, { add_special_tokens: false }).ids));
  const plain = out.lenml_plain.at(-1);
  out.decoded.push(plain.length ? lenml.decode(plain) : "");
}
const messages = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "What is 2 + 3?" },
  { role: "assistant", content: "<think>\n2 + 3 = 5\n</think>\n\n5" },
  { role: "user", content: "And 4 + 4?" },
];
out.chat = new Template(tokenizerConfig.chat_template).render({
  messages,
  add_generation_prompt: true,
  bos_token: tokenizerConfig.bos_token,
  eos_token: tokenizerConfig.eos_token,
});
out.chat_ids = Array.from(lenml.encode(out.chat, { add_special_tokens: false }));
fs.writeFileSync(outPath, JSON.stringify(out));
