// Conversion plan: every GGUF tensor is a Source that produces f32 rows on
// demand (decoded from bf16/f16/f32/fp8 safetensors, restacked, transposed
// or permuted as llama.cpp's converter does); the writer streams each one,
// quantized a chunk of rows at a time on the thread pool.
#include "convert/hf_to_gguf.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>

#include "convert/tokenizer_metadata.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "formats/hf_folder.h"
#include "kernels/reference/row_decode.h"
#include "model/blocks.h"
#include "model/config.h"
#include "model/gguf_names.h"
#include "quant/quant.h"

namespace dseek {

namespace fs = std::filesystem;

namespace {

struct Source {
  std::string name;             // GGUF name
  std::vector<int64_t> shape;   // outermost first
  bool keep_f32 = false;        // norms, biases, router, rope factors
  int64_t row_group = 1;        // rows() is called with ranges of whole groups
  // Writes rows [begin, end) (of the tensor as a [rows, cols] matrix) as f32.
  std::function<void(int64_t begin, int64_t end, float* out)> rows;

  int64_t cols() const { return shape.back(); }
  int64_t n_rows() const {
    int64_t n = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) n *= shape[i];
    return n;
  }
};

std::vector<int64_t> shape_of(const Tensor& t) { return std::vector<int64_t>(t.shape.begin(), t.shape.begin() + t.rank); }

Source plain(std::string name, const Tensor& t) {
  Source s;
  s.name = std::move(name);
  s.shape = shape_of(t);
  s.keep_f32 = t.rank < 2;
  s.rows = [t](int64_t begin, int64_t end, float* out) {
    Tensor m = t;
    if (m.rank < 2) {  // decode a vector as one row
      m.rank = 2;
      m.shape = {1, t.numel(), 0, 0};
    }
    const int64_t cols = m.cols();
    for (int64_t r = begin; r < end; ++r) kernels::decode_row_reference(m, r, 0, cols, out + (r - begin) * cols);
  };
  return s;
}

// Experts stacked along a new outer dimension, in expert order.
Source stacked(std::string name, std::vector<Tensor> experts) {
  Source s;
  s.name = std::move(name);
  s.shape = {static_cast<int64_t>(experts.size()), experts[0].rows(), experts[0].cols()};
  s.rows = [experts = std::move(experts)](int64_t begin, int64_t end, float* out) {
    const int64_t per = experts[0].rows(), cols = experts[0].cols();
    for (int64_t r = begin; r < end; ++r)
      kernels::decode_row_reference(experts[r / per], r % per, 0, cols, out + (r - begin) * cols);
  };
  return s;
}

// convert_hf_to_gguf's split of kv_b_proj [heads * (nope + v), rank]:
// attn_k_b [heads, rank, nope] = the k rows of each head, transposed;
// attn_v_b [heads, v, rank] = the v rows as they are.
Source k_b_from_kv_b(std::string name, const Tensor& kv_b, int64_t heads, int64_t nope, int64_t v) {
  Source s;
  s.name = std::move(name);
  const int64_t rank = kv_b.cols();
  s.shape = {heads, rank, nope};
  s.row_group = rank;
  s.rows = [kv_b, nope, v, rank](int64_t begin, int64_t end, float* out) {
    std::vector<float> k(static_cast<size_t>(nope * rank));
    for (int64_t h = begin / rank; h < end / rank; ++h) {
      for (int64_t n = 0; n < nope; ++n)
        kernels::decode_row_reference(kv_b, h * (nope + v) + n, 0, rank, k.data() + n * rank);
      float* o = out + (h * rank - begin) * nope;
      for (int64_t r = 0; r < rank; ++r)
        for (int64_t n = 0; n < nope; ++n) o[r * nope + n] = k[n * rank + r];
    }
  };
  return s;
}

Source v_b_from_kv_b(std::string name, const Tensor& kv_b, int64_t heads, int64_t nope, int64_t v) {
  Source s;
  s.name = std::move(name);
  const int64_t rank = kv_b.cols();
  s.shape = {heads, v, rank};
  s.rows = [kv_b, nope, v, rank](int64_t begin, int64_t end, float* out) {
    for (int64_t r = begin; r < end; ++r)
      kernels::decode_row_reference(kv_b, r / v * (nope + v) + nope + r % v, 0, rank, out + (r - begin) * rank);
  };
  return s;
}

// convert_hf_to_gguf's LlamaModel.permute: within each head, rows
// [first half | second half] (HF rotate_half) are interleaved into
// (0, d/2, 1, d/2+1, ...) so llama.cpp can rotate adjacent pairs. Row r of
// the result is row permuted_source(r) of the original.
int64_t permuted_source(int64_t r, int64_t head) {
  const int64_t h = r / head, i = (r % head) / 2, part = (r % head) % 2;
  return h * head + part * (head / 2) + i;
}

Source permuted(Source s, int64_t n_head) {
  const int64_t head = s.n_rows() / n_head, cols = s.cols();
  auto inner = s.rows;
  s.rows = [inner, head, cols](int64_t begin, int64_t end, float* out) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t from = permuted_source(r, head);
      inner(from, from + 1, out + (r - begin) * cols);
    }
  };
  return s;
}

// A bias permuted like the rows of its weight.
Source permuted_vector(std::string name, const Tensor& t, int64_t n_head) {
  Source s = plain(std::move(name), t);
  const int64_t n = t.numel(), head = n / n_head;
  auto inner = s.rows;
  s.rows = [inner, n, head](int64_t, int64_t, float* out) {
    std::vector<float> v(static_cast<size_t>(n));
    inner(0, 1, v.data());
    for (int64_t j = 0; j < n; ++j) out[j] = v[permuted_source(j, head)];
  };
  return s;
}

Source values(std::string name, std::vector<float> v) {
  Source s;
  s.name = std::move(name);
  s.shape = {static_cast<int64_t>(v.size())};
  s.keep_f32 = true;
  s.rows = [v = std::move(v)](int64_t, int64_t, float* out) { std::memcpy(out, v.data(), 4 * v.size()); };
  return s;
}

// llama.cpp's "fallback" types for rows that are not whole 256-element
// super-blocks (llama-quantize's choice, with Q4_0 where it would use IQ4_NL).
DType fallback(DType t) {
  switch (t) {
    case DType::Q4_K: return DType::Q5_0;
    case DType::Q5_K: return DType::Q5_1;
    case DType::Q6_K: return DType::Q8_0;
    case DType::Q2_K:
    case DType::Q3_K: return DType::Q4_0;
    default: return t;
  }
}

DType choose_type(const Source& s, DType target) {
  const bool router = s.name.size() >= 19 && s.name.compare(s.name.size() - 19, 19, "ffn_gate_inp.weight") == 0;
  if (s.keep_f32 || s.shape.size() < 2 || router) return DType::F32;
  DType t = target;
  if (s.cols() % dtype_info(t).block_elements != 0) t = fallback(t);
  if (s.cols() % dtype_info(t).block_elements != 0) t = DType::F16;
  return t;
}

// llama.cpp's llama_ftype for a file whose weights are all `t`.
uint32_t file_type_of(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q8_0: return 7;
    case DType::Q2_K: return 10;
    case DType::Q3_K: return 11;  // Q3_K_S
    case DType::Q4_K: return 14;  // Q4_K_S
    case DType::Q5_K: return 16;  // Q5_K_S
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: return 0;
  }
}

class Planner {
 public:
  Planner(WeightStore& w, const ModelConfig& c, KvbLayout layout) : w_(w), c_(c), layout_(layout) {}

  Result<std::vector<Source>> plan() {
    DSEEK_TRY(matrix("model.embed_tokens", c_.vocab_size, c_.hidden_size));
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i) DSEEK_TRY(layer(i));
    DSEEK_TRY(vector("model.norm.weight", c_.hidden_size));
    if (!c_.tie_word_embeddings) DSEEK_TRY(matrix("lm_head", c_.vocab_size, c_.hidden_size));
    else if (w_.contains("lm_head.weight")) (void)w_.take("lm_head.weight");  // a redundant copy
    if (c_.rope_scaling.type == RopeScalingType::kLlama3) out_.push_back(values("rope_freqs.weight", llama3_factors()));
    return std::move(out_);
  }

 private:
  static std::string gguf(const std::string& hf) {
    auto g = gguf_name_from_hf(hf);
    DSEEK_CHECK(g.has_value());
    return *g;
  }

  Status matrix(const std::string& prefix, int64_t rows, int64_t cols, int64_t permute_heads = 0) {
    auto t = take_matrix(w_, c_, prefix, rows, cols);
    if (!t) return t.error();
    Source s = plain(gguf(prefix + ".weight"), t.value());
    out_.push_back(permute_heads ? permuted(std::move(s), permute_heads) : std::move(s));
    return ok_status();
  }

  Status vector(const std::string& name, int64_t n, int64_t permute_heads = 0) {
    auto t = w_.take(name);
    if (!t) return t.error();
    if (auto ok = expect_shape(t.value(), {n}); !ok) return ok.error().within(w_.description());
    if (!dtype_info(t->dtype).computable || t->dtype == DType::F8_E4M3)
      return Error{w_.description() + ": tensor " + name + " must be F32, F16 or BF16"};
    out_.push_back(permute_heads ? permuted_vector(gguf(name), t.value(), permute_heads) : plain(gguf(name), t.value()));
    return ok_status();
  }

  Status swiglu(const std::string& p, int64_t hidden, int64_t inter) {
    DSEEK_TRY(matrix(p + ".gate_proj", inter, hidden));
    DSEEK_TRY(matrix(p + ".up_proj", inter, hidden));
    return matrix(p + ".down_proj", hidden, inter);
  }

  Status layer(int64_t i) {
    const std::string p = "model.layers." + std::to_string(i);
    DSEEK_TRY(vector(p + ".input_layernorm.weight", c_.hidden_size));
    if (c_.uses_mla()) DSEEK_TRY(mla(p + ".self_attn"));
    else DSEEK_TRY(dense_attention(p + ".self_attn"));
    DSEEK_TRY(vector(p + ".post_attention_layernorm.weight", c_.hidden_size));
    if (!c_.is_moe_layer(i)) return swiglu(p + ".mlp", c_.hidden_size, c_.intermediate_size);
    const MoeConfig& e = c_.moe;
    DSEEK_TRY(matrix(p + ".mlp.gate", e.n_routed_experts, c_.hidden_size));
    if (e.topk_method == TopkMethod::kNoauxTc)
      DSEEK_TRY(vector(p + ".mlp.gate.e_score_correction_bias", e.n_routed_experts));
    for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) {
      const bool down = std::string(proj) == "down_proj";
      std::vector<Tensor> experts;
      for (int64_t x = 0; x < e.n_routed_experts; ++x) {
        auto t = take_matrix(w_, c_, p + ".mlp.experts." + std::to_string(x) + "." + proj,
                             down ? c_.hidden_size : e.moe_intermediate_size,
                             down ? e.moe_intermediate_size : c_.hidden_size);
        if (!t) return t.error();
        experts.push_back(t.value());
      }
      out_.push_back(stacked(gguf(p + ".mlp.experts." + proj + ".weight"), std::move(experts)));
    }
    if (e.n_shared_experts > 0)
      DSEEK_TRY(swiglu(p + ".mlp.shared_experts", c_.hidden_size, e.n_shared_experts * e.moe_intermediate_size));
    return ok_status();
  }

  Status mla(const std::string& p) {
    const MlaConfig& m = c_.mla;
    const int64_t heads = c_.num_attention_heads;
    if (m.q_lora_rank == 0) {
      DSEEK_TRY(matrix(p + ".q_proj", heads * (m.qk_nope_head_dim + m.qk_rope_head_dim), c_.hidden_size));
    } else {
      DSEEK_TRY(matrix(p + ".q_a_proj", m.q_lora_rank, c_.hidden_size));
      DSEEK_TRY(vector(p + ".q_a_layernorm.weight", m.q_lora_rank));
      DSEEK_TRY(matrix(p + ".q_b_proj", heads * (m.qk_nope_head_dim + m.qk_rope_head_dim), m.q_lora_rank));
    }
    DSEEK_TRY(matrix(p + ".kv_a_proj_with_mqa", m.kv_lora_rank + m.qk_rope_head_dim, c_.hidden_size));
    DSEEK_TRY(vector(p + ".kv_a_layernorm.weight", m.kv_lora_rank));
    if (layout_ == KvbLayout::kCombined) {
      DSEEK_TRY(matrix(p + ".kv_b_proj", heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank));
    } else {
      auto kv_b = take_matrix(w_, c_, p + ".kv_b_proj", heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank);
      if (!kv_b) return kv_b.error();
      out_.push_back(k_b_from_kv_b(gguf(p + ".k_b_proj.weight"), kv_b.value(), heads, m.qk_nope_head_dim, m.v_head_dim));
      out_.push_back(v_b_from_kv_b(gguf(p + ".v_b_proj.weight"), kv_b.value(), heads, m.qk_nope_head_dim, m.v_head_dim));
    }
    return matrix(p + ".o_proj", c_.hidden_size, heads * m.v_head_dim);
  }

  Status dense_attention(const std::string& p) {
    const int64_t hd = c_.head_dim, heads = c_.num_attention_heads, kv_heads = c_.num_key_value_heads;
    // llama.cpp rotates adjacent pairs; HF llama checkpoints are stored for
    // rotate_half, so llama's q/k (and their biases) are permuted. Qwen2 is
    // run with NEOX-style RoPE by llama.cpp and left as it is.
    const bool permute = c_.family == Family::kLlama;
    const bool bias = c_.qkv_bias || c_.attention_bias;
    DSEEK_TRY(matrix(p + ".q_proj", heads * hd, c_.hidden_size, permute ? heads : 0));
    if (bias) DSEEK_TRY(vector(p + ".q_proj.bias", heads * hd, permute ? heads : 0));
    DSEEK_TRY(matrix(p + ".k_proj", kv_heads * hd, c_.hidden_size, permute ? kv_heads : 0));
    if (bias) DSEEK_TRY(vector(p + ".k_proj.bias", kv_heads * hd, permute ? kv_heads : 0));
    DSEEK_TRY(matrix(p + ".v_proj", kv_heads * hd, c_.hidden_size));
    if (bias) DSEEK_TRY(vector(p + ".v_proj.bias", kv_heads * hd));
    DSEEK_TRY(matrix(p + ".o_proj", c_.hidden_size, heads * hd));
    if (c_.attention_bias) DSEEK_TRY(vector(p + ".o_proj.bias", c_.hidden_size));
    return ok_status();
  }

  // convert_hf_to_gguf's rope_freqs for llama3 scaling: per-pair divisors.
  std::vector<float> llama3_factors() const {
    const RopeScaling& s = c_.rope_scaling;
    const double old_context = static_cast<double>(s.original_max_position_embeddings);
    const double low_wavelen = old_context / s.low_freq_factor, high_wavelen = old_context / s.high_freq_factor;
    std::vector<float> f;
    for (int64_t i = 0; i < c_.head_dim; i += 2) {
      // The base frequencies in float32 (torch.arange(..., dtype=float32)), the rest in double.
      const float freq = 1.0f / std::pow(static_cast<float>(c_.rope_theta),
                                         static_cast<float>(i) / static_cast<float>(c_.head_dim));
      const double wavelen = 2.0 * M_PI / freq;
      if (wavelen < high_wavelen) {
        f.push_back(1.0f);
      } else if (wavelen > low_wavelen) {
        f.push_back(static_cast<float>(s.factor));
      } else {
        const double smooth = (old_context / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        f.push_back(static_cast<float>(1.0 / ((1.0 - smooth) / s.factor + smooth)));
      }
    }
    return f;
  }

  WeightStore& w_;
  const ModelConfig& c_;
  KvbLayout layout_;
  std::vector<Source> out_;
};

void write_model_metadata(GgufWriter& w, const ModelConfig& c, const std::string& name, DType type, KvbLayout layout) {
  const std::string arch = c.uses_mla() ? "deepseek2" : c.family == Family::kQwen2 ? "qwen2" : "llama";
  auto k = [&](const std::string& suffix) { return arch + "." + suffix; };
  auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
  w.set_string("general.architecture", arch);
  w.set_string("general.name", name);
  w.set_u32(k("block_count"), u32(c.num_hidden_layers));
  w.set_u32(k("context_length"), u32(c.max_position_embeddings));
  w.set_u32(k("embedding_length"), u32(c.hidden_size));
  w.set_u32(k("feed_forward_length"), u32(c.intermediate_size));
  w.set_u32(k("attention.head_count"), u32(c.num_attention_heads));
  const bool split = layout == KvbLayout::kSplit;
  // MLA as llama.cpp runs it: one shared "kv head" (the latent) when split.
  w.set_u32(k("attention.head_count_kv"),
            u32(c.uses_mla() ? (split ? 1 : c.num_attention_heads) : c.num_key_value_heads));
  w.set_f32(k("rope.freq_base"), static_cast<float>(c.rope_theta));
  w.set_f32(k("attention.layer_norm_rms_epsilon"), static_cast<float>(c.rms_norm_eps));
  const RopeScaling& rs = c.rope_scaling;
  if (rs.type == RopeScalingType::kLinear || rs.type == RopeScalingType::kYarn) {
    w.set_string(k("rope.scaling.type"), rs.type == RopeScalingType::kLinear ? "linear" : "yarn");
    w.set_f32(k("rope.scaling.factor"), static_cast<float>(rs.factor));
    if (rs.type == RopeScalingType::kYarn) {
      w.set_u32(k("rope.scaling.original_context_length"), u32(rs.original_max_position_embeddings));
      w.set_f32(k("rope.scaling.yarn_beta_fast"), static_cast<float>(rs.beta_fast));
      w.set_f32(k("rope.scaling.yarn_beta_slow"), static_cast<float>(rs.beta_slow));
    }
  }
  w.set_u32("general.file_type", file_type_of(type));
  w.set_u32(k("vocab_size"), u32(c.vocab_size));
  if (!c.uses_mla()) {
    w.set_u32(k("rope.dimension_count"), u32(c.head_dim));
    if (c.head_dim * c.num_attention_heads != c.hidden_size) {
      w.set_u32(k("attention.key_length"), u32(c.head_dim));
      w.set_u32(k("attention.value_length"), u32(c.head_dim));
    }
  } else {
    const MlaConfig& m = c.mla;
    const MoeConfig& e = c.moe;
    w.set_u32(k("leading_dense_block_count"), u32(e.n_routed_experts > 0 ? e.first_k_dense_replace : c.num_hidden_layers));
    if (m.q_lora_rank > 0) w.set_u32(k("attention.q_lora_rank"), u32(m.q_lora_rank));
    w.set_u32(k("attention.kv_lora_rank"), u32(m.kv_lora_rank));
    if (split) {
      w.set_u32(k("attention.key_length"), u32(m.kv_lora_rank + m.qk_rope_head_dim));
      w.set_u32(k("attention.value_length"), u32(m.kv_lora_rank));
      w.set_u32(k("attention.key_length_mla"), u32(m.qk_nope_head_dim + m.qk_rope_head_dim));
      w.set_u32(k("attention.value_length_mla"), u32(m.v_head_dim));
    } else {
      w.set_u32(k("attention.key_length"), u32(m.qk_nope_head_dim + m.qk_rope_head_dim));
      w.set_u32(k("attention.value_length"), u32(m.v_head_dim));
    }
    if (e.n_routed_experts > 0) {
      // llama.cpp has no moe_layer_freq (every layer after the leading dense
      // ones is MoE); dseek writes its own key so such models round-trip.
      if (e.moe_layer_freq != 1) w.set_u32(k("moe_layer_freq"), u32(e.moe_layer_freq));
      w.set_u32(k("expert_feed_forward_length"), u32(e.moe_intermediate_size));
      w.set_u32(k("expert_count"), u32(e.n_routed_experts));
      w.set_u32(k("expert_shared_count"), u32(e.n_shared_experts));
      w.set_u32(k("expert_used_count"), u32(e.num_experts_per_tok));
      w.set_f32(k("expert_weights_scale"), static_cast<float>(e.routed_scaling_factor));
      if (e.norm_topk_prob) w.set_bool(k("expert_weights_norm"), true);
      w.set_u32(k("expert_gating_func"), e.scoring_func == ScoringFunc::kSigmoid ? 2 : 1);
      w.set_u32(k("expert_group_count"), u32(e.n_group));
      w.set_u32(k("expert_group_used_count"), u32(e.topk_group));
    }
    w.set_u32(k("rope.dimension_count"), u32(m.qk_rope_head_dim));
    if (rs.type == RopeScalingType::kYarn && rs.mscale_all_dim > 0)
      w.set_f32(k("rope.scaling.yarn_log_multiplier"), static_cast<float>(0.1 * rs.mscale_all_dim));
  }
  if (is_block_quantized(type)) w.set_u32("general.quantization_version", 2);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d) text.push_back('x');
    text.append(std::to_string(shape[d]));
  }
  return text;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

bool convertible_type(DType t) {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0: case DType::Q4_0:
    case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: case DType::Q2_K: case DType::Q3_K:
      return true;
    default:
      return false;
  }
}

namespace {

// Adds the tensors with their types, then writes the file, producing and
// quantizing each tensor a chunk of rows (about 4M values) at a time.
Status write_tensors(GgufWriter& writer, const std::vector<Source>& sources, const std::string& src,
                     const std::string& out_path, const ConvertOptions& o) {
  std::vector<DType> types;
  int fallbacks = 0;
  for (const Source& s : sources) {
    const DType t = choose_type(s, o.type);
    if (t != o.type && t != DType::F32) ++fallbacks;
    types.push_back(t);
    writer.add_tensor(s.name, t, s.shape);
  }
  if (o.progress) {
    std::fprintf(stderr, "convert: %s -> %s (%s), %zu tensors", src.c_str(), out_path.c_str(),
                 lower(dtype_info(o.type).name).c_str(), sources.size());
    if (fallbacks)
      std::fprintf(stderr, "; %d with rows that are not whole %s blocks use a fallback type", fallbacks,
                   dtype_info(o.type).name.data());
    std::fprintf(stderr, "\n");
  }
  uint64_t done_bytes = 0, total_bytes = 0;
  for (size_t i = 0; i < sources.size(); ++i) total_bytes += writer.tensor_bytes(i);
  Status status = writer.write(out_path, [&](size_t index, const GgufWriter::Emit& emit) -> Status {
    const Source& s = sources[index];
    const DType t = types[index];
    const int64_t cols = s.cols(), rows = s.n_rows();
    const int64_t row_out = *row_bytes(t, cols);
    const int64_t group = s.row_group;
    const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 22) / std::max<int64_t>(1, cols * group)) * group;
    std::vector<float> f32;
    std::vector<uint8_t> bytes;
    for (int64_t begin = 0; begin < rows; begin += chunk) {
      const int64_t end = std::min(rows, begin + chunk);
      f32.resize(static_cast<size_t>((end - begin) * cols));
      bytes.resize(static_cast<size_t>((end - begin) * row_out));
      const int64_t n_groups = (end - begin + group - 1) / group;
      o.pool->parallel_for(n_groups, 1, [&](int64_t g0, int64_t g1, int) {
        const int64_t r0 = begin + g0 * group, r1 = std::min(end, begin + g1 * group);
        s.rows(r0, r1, f32.data() + (r0 - begin) * cols);
        for (int64_t r = r0; r < r1; ++r)
          quant::quantize(t, f32.data() + (r - begin) * cols, bytes.data() + (r - begin) * row_out, cols);
      });
      DSEEK_TRY(emit(bytes.data(), bytes.size()));
    }
    done_bytes += writer.tensor_bytes(index);
    if (o.progress)
      std::fprintf(stderr, "[%4zu/%zu] %-36s %-18s %-5s %5.1f%%\n", index + 1, sources.size(), s.name.c_str(),
                   shape_text(s.shape).c_str(), lower(dtype_info(t).name).c_str(),
                   100.0 * static_cast<double>(done_bytes) / static_cast<double>(std::max<uint64_t>(total_bytes, 1)));
    return ok_status();
  });
  if (!status) return status;
  if (o.progress) std::fprintf(stderr, "convert: wrote %s\n", out_path.c_str());
  return ok_status();
}

// GGUF to GGUF in another type: metadata copied (file type rewritten),
// tensors decoded to f32 and stored again.
Status convert_gguf(const std::string& src, const std::string& out_path, const ConvertOptions& o) {
  auto file = open_gguf(src);
  if (!file) return file.error();
  auto tensors = file->tensors();
  if (!tensors) return tensors.error();
  GgufWriter writer;
  for (const auto& [key, value] : file->header.metadata) {
    if (key == "general.file_type" || key == "general.quantization_version" || key == "general.alignment") continue;
    writer.set_value(std::string(key), value);
  }
  writer.set_u32("general.file_type", file_type_of(o.type));
  if (is_block_quantized(o.type)) writer.set_u32("general.quantization_version", 2);
  std::vector<Source> sources;
  for (const Tensor& t : tensors.value()) {
    if (!dtype_info(t.dtype).computable)
      return Error{src + ": tensor " + t.name + " has type " + std::string(dtype_info(t.dtype).name) +
                   ", which convert cannot decode"};
    sources.push_back(plain(t.name, t));
  }
  return write_tensors(writer, sources, src, out_path, o);
}

}  // namespace

Status convert_to_gguf(const std::string& src, const std::string& out_path, const ConvertOptions& o) {
  DSEEK_CHECK(o.pool != nullptr && convertible_type(o.type));
  if (fs::is_regular_file(src) && looks_like_gguf(src)) return convert_gguf(src, out_path, o);
  const std::string& folder = src;
  auto ckpt = open_hf_folder(folder, false);
  if (!ckpt) return ckpt.error();
  const std::string config_path = (fs::path(folder) / "config.json").string();
  auto config = parse_model_config(ckpt->config_json, config_path);
  if (!config) return config.error();
  const ModelConfig& c = config.value();

  Planner planner(ckpt->weights, c, o.kv_b_layout);
  auto plan = planner.plan();
  if (!plan) return plan.error();
  auto tokenizer = read_tokenizer_metadata(folder, c.vocab_size, c.model_type);
  if (!tokenizer) return tokenizer.error();
  if (c.uses_mla() && c.moe.n_routed_experts > 0 && c.moe.moe_layer_freq != 1)
    std::fprintf(stderr, "dseek: warning: moe_layer_freq is %lld: llama.cpp cannot load the result (only dseek reads "
                 "the deepseek2.moe_layer_freq key written for it)\n", static_cast<long long>(c.moe.moe_layer_freq));
  if (o.progress) {
    // MTP layers (index >= num_hidden_layers) are left out as llama.cpp's converter does.
    int64_t mtp = 0, shown = 0;
    for (const std::string& s : ckpt->weights.unused_names()) {
      int64_t layer = -1;
      if (std::sscanf(s.c_str(), "model.layers.%ld.", &layer) == 1 && layer >= c.num_hidden_layers) {
        ++mtp;
      } else if (shown++ < 5) {
        std::fprintf(stderr, "convert: skipping %s (not part of the GGUF layout)\n", s.c_str());
      }
    }
    if (shown > 5) std::fprintf(stderr, "convert: ... and %ld more tensors skipped\n", static_cast<long>(shown - 5));
    if (mtp) std::fprintf(stderr, "convert: skipping the %ld tensors of the MTP module (no GGUF layout for it)\n", static_cast<long>(mtp));
  }

  GgufWriter writer;
  std::string name = fs::path(folder).filename().string();
  if (name.empty()) name = fs::path(folder).parent_path().filename().string();
  write_model_metadata(writer, c, name, o.type, o.kv_b_layout);
  if (tokenizer->has_value()) write_tokenizer_metadata(writer, **tokenizer);
  return write_tensors(writer, plan.value(), folder, out_path, o);
}

}  // namespace dseek
