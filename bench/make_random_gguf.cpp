// A random-weight DeepSeek-V2-Lite-shaped GGUF for speed measurements:
// hidden 2048, 27 layers (the first dense, FFN 10944), 16 heads, no q_lora,
// kv_lora 512, nope 128, rope 64, v 128, 64 routed experts (top-6, FFN 1408)
// and 2 shared, vocab 102400; metadata and tensor names as llama.cpp's
// converter writes them for deepseek2 (split attn_k_b / attn_v_b), the
// tokenizer copied from a llama.cpp vocab file. Every 2-D weight but the
// router is in the chosen block type ("pure"); the weights are random
// blocks at the scale of real ones (std ~0.02): meaningless, but every byte
// is read exactly as a real model's would be.
//
//   dseek_make_random_gguf --type q4_0 --vocab ggml-vocab-deepseek-llm.gguf --out model.gguf
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "util/numeric_formats.h"

namespace {

using dseek::DType;

struct Shape {
  int64_t hidden = 2048, layers = 27, heads = 16, kv_lora = 512, nope = 128, rope = 64, v = 128;
  int64_t dense_ffn = 10944, experts = 64, used = 6, shared = 2, expert_ffn = 1408, vocab = 102400;
};

// splitmix64: fast, and the same file for the same seed.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return static_cast<float>(next() >> 40) / static_cast<float>(1 << 24); }
};

// n elements of `type` with values of standard deviation about `std`.
void random_blocks(DType type, int64_t n, float std, Rng& rng, std::vector<uint8_t>& out) {
  const auto& info = dseek::dtype_info(type);
  out.resize(static_cast<size_t>(n / info.block_elements * info.block_bytes));
  uint8_t* p = out.data();
  if (type == DType::F32) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = (rng.uniform() * 2.0f - 1.0f) * std * 1.732f;
      std::memcpy(p + 4 * i, &v, 4);
    }
    return;
  }
  // Q4_0: f16 d, 16 bytes of nibbles (q - 8 has std ~4.6); Q8_0: f16 d, 32
  // int8 in [-127, 127] (std ~73).
  const bool q4 = type == DType::Q4_0;
  const float d = std / (q4 ? 4.6f : 73.0f);
  for (int64_t b = 0; b < n / 32; ++b, p += info.block_bytes) {
    const uint16_t h = dseek::f32_to_f16(d * (0.75f + 0.5f * rng.uniform()));
    std::memcpy(p, &h, 2);
    for (int k = 0; k < (q4 ? 16 : 32); k += 8) {
      uint64_t r = rng.next();
      if (q4) {
        // Nibble 0 (value -8) would make the values' mean -0.5, a common
        // component that routes every token to the same experts: make it 8
        // (value 0) so the values are symmetric around zero.
        const uint64_t any = r | ((r >> 1) & 0x7777777777777777ull) | ((r >> 2) & 0x3333333333333333ull) |
                             ((r >> 3) & 0x1111111111111111ull);
        r |= (~any & 0x1111111111111111ull) << 3;
      } else {
        for (int j = 0; j < 8; ++j)
          if (((r >> (8 * j)) & 0xff) == 0x80) r ^= uint64_t{1} << (8 * j);  // no -128
      }
      std::memcpy(p + 2 + k, &r, 8);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"random-weight DeepSeek-V2-Lite-shaped GGUF (for benchmarks)"};
  std::string type_name = "q4_0", vocab_path, out_path;
  uint64_t seed = 1;
  Shape s;
  app.add_option("--type", type_name, "q4_0 or q8_0");
  app.add_option("--vocab", vocab_path, "a llama.cpp vocab GGUF with the DeepSeek LLM tokenizer (102400 tokens)")->required();
  app.add_option("--out", out_path, "the GGUF to write")->required();
  app.add_option("--seed", seed, "random seed");
  app.add_option("--layers", s.layers, "decoder layers (27 in V2-Lite)");
  CLI11_PARSE(app, argc, argv);
  const DType type = type_name == "q8_0" ? DType::Q8_0 : DType::Q4_0;
  if (type_name != "q4_0" && type_name != "q8_0") {
    std::fprintf(stderr, "--type must be q4_0 or q8_0\n");
    return 2;
  }
  auto vocab = dseek::open_gguf(vocab_path);
  if (!vocab) {
    std::fprintf(stderr, "%s\n", vocab.error().message.c_str());
    return 1;
  }

  dseek::GgufWriter w;
  auto k = [](const std::string& key) { return "deepseek2." + key; };
  w.set_string("general.architecture", "deepseek2");
  w.set_string("general.name", "random DeepSeek-V2-Lite shape " + type_name);
  w.set_u32(k("block_count"), static_cast<uint32_t>(s.layers));
  w.set_u32(k("context_length"), 163840);
  w.set_u32(k("embedding_length"), static_cast<uint32_t>(s.hidden));
  w.set_u32(k("feed_forward_length"), static_cast<uint32_t>(s.dense_ffn));
  w.set_u32(k("attention.head_count"), static_cast<uint32_t>(s.heads));
  w.set_u32(k("attention.head_count_kv"), 1);
  w.set_f32(k("rope.freq_base"), 10000.0f);
  w.set_f32(k("attention.layer_norm_rms_epsilon"), 1e-6f);
  w.set_string(k("rope.scaling.type"), "yarn");
  w.set_f32(k("rope.scaling.factor"), 40.0f);
  w.set_u32(k("rope.scaling.original_context_length"), 4096);
  w.set_f32(k("rope.scaling.yarn_beta_fast"), 32.0f);
  w.set_f32(k("rope.scaling.yarn_beta_slow"), 1.0f);
  w.set_u32("general.file_type", type == DType::Q8_0 ? 7 : 2);  // llama.cpp's MOSTLY_Q8_0 / MOSTLY_Q4_0
  w.set_u32(k("vocab_size"), static_cast<uint32_t>(s.vocab));
  w.set_u32(k("leading_dense_block_count"), 1);
  w.set_u32(k("attention.kv_lora_rank"), static_cast<uint32_t>(s.kv_lora));
  w.set_u32(k("attention.key_length"), static_cast<uint32_t>(s.kv_lora + s.rope));
  w.set_u32(k("attention.value_length"), static_cast<uint32_t>(s.kv_lora));
  w.set_u32(k("attention.key_length_mla"), static_cast<uint32_t>(s.nope + s.rope));
  w.set_u32(k("attention.value_length_mla"), static_cast<uint32_t>(s.v));
  w.set_u32(k("expert_feed_forward_length"), static_cast<uint32_t>(s.expert_ffn));
  w.set_u32(k("expert_count"), static_cast<uint32_t>(s.experts));
  w.set_u32(k("expert_shared_count"), static_cast<uint32_t>(s.shared));
  w.set_u32(k("expert_used_count"), static_cast<uint32_t>(s.used));
  w.set_f32(k("expert_weights_scale"), 1.0f);
  w.set_u32(k("expert_gating_func"), 1);  // softmax
  w.set_u32(k("expert_group_count"), 1);
  w.set_u32(k("expert_group_used_count"), 1);
  w.set_u32(k("rope.dimension_count"), static_cast<uint32_t>(s.rope));
  w.set_f32(k("rope.scaling.yarn_log_multiplier"), 0.0707f);
  w.set_u32("general.quantization_version", 2);
  for (const auto& [key, value] : vocab->header.metadata)
    if (key.rfind("tokenizer.", 0) == 0) w.set_value(std::string(key), value);

  struct Entry {
    DType type;
    int64_t numel;
    float std;
  };
  std::vector<Entry> entries;
  auto add = [&](const std::string& name, DType t, std::vector<int64_t> shape, float std) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    w.add_tensor(name, t, shape);
    entries.push_back({t, n, std});
  };
  // Norm weights are 1 (std 0 around 1 is written as F32 ones below).
  add("token_embd.weight", type, {s.vocab, s.hidden}, 1.0f);
  for (int64_t i = 0; i < s.layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    add(p + "attn_norm.weight", DType::F32, {s.hidden}, -1.0f);
    add(p + "attn_q.weight", type, {s.heads * (s.nope + s.rope), s.hidden}, 0.02f);
    add(p + "attn_kv_a_mqa.weight", type, {s.kv_lora + s.rope, s.hidden}, 0.02f);
    add(p + "attn_kv_a_norm.weight", DType::F32, {s.kv_lora}, -1.0f);
    add(p + "attn_k_b.weight", type, {s.heads, s.kv_lora, s.nope}, 0.02f);
    add(p + "attn_v_b.weight", type, {s.heads, s.v, s.kv_lora}, 0.02f);
    add(p + "attn_output.weight", type, {s.hidden, s.heads * s.v}, 0.02f);
    add(p + "ffn_norm.weight", DType::F32, {s.hidden}, -1.0f);
    if (i == 0) {
      add(p + "ffn_gate.weight", type, {s.dense_ffn, s.hidden}, 0.02f);
      add(p + "ffn_up.weight", type, {s.dense_ffn, s.hidden}, 0.02f);
      add(p + "ffn_down.weight", type, {s.hidden, s.dense_ffn}, 0.02f);
      continue;
    }
    add(p + "ffn_gate_inp.weight", DType::F32, {s.experts, s.hidden}, 0.02f);
    add(p + "ffn_gate_exps.weight", type, {s.experts, s.expert_ffn, s.hidden}, 0.02f);
    add(p + "ffn_up_exps.weight", type, {s.experts, s.expert_ffn, s.hidden}, 0.02f);
    add(p + "ffn_down_exps.weight", type, {s.experts, s.hidden, s.expert_ffn}, 0.02f);
    add(p + "ffn_gate_shexp.weight", type, {s.shared * s.expert_ffn, s.hidden}, 0.02f);
    add(p + "ffn_up_shexp.weight", type, {s.shared * s.expert_ffn, s.hidden}, 0.02f);
    add(p + "ffn_down_shexp.weight", type, {s.hidden, s.shared * s.expert_ffn}, 0.02f);
  }
  add("output_norm.weight", DType::F32, {s.hidden}, -1.0f);
  add("output.weight", type, {s.vocab, s.hidden}, 0.02f);

  Rng rng{seed};
  std::vector<uint8_t> buf;
  uint64_t written = 0, total = 0;
  for (size_t i = 0; i < entries.size(); ++i) total += w.tensor_bytes(i);
  auto status = w.write(out_path, [&](size_t index, const dseek::GgufWriter::Emit& emit) -> dseek::Status {
    const Entry& e = entries[index];
    // Emit in pieces of about 1 M elements.
    const int64_t piece = int64_t{1} << 20;
    for (int64_t done = 0; done < e.numel; done += piece) {
      const int64_t n = std::min(piece, e.numel - done);
      if (e.std < 0) {
        buf.resize(static_cast<size_t>(4 * n));
        const float one = 1.0f;
        for (int64_t j = 0; j < n; ++j) std::memcpy(buf.data() + 4 * j, &one, 4);
      } else {
        random_blocks(e.type, n, e.std, rng, buf);
      }
      DSEEK_TRY(emit(buf.data(), buf.size()));
      written += buf.size();
    }
    if (index % 20 == 0) std::fprintf(stderr, "\r%.1f of %.1f GB", written / 1e9, total / 1e9);
    return dseek::ok_status();
  });
  std::fprintf(stderr, "\n");
  if (!status) {
    std::fprintf(stderr, "%s\n", status.error().message.c_str());
    return 1;
  }
  return 0;
}
