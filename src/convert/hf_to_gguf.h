// dseek convert: a Hugging Face folder (bf16, f16, f32, or DeepSeek's block-
// scaled fp8) to a GGUF file laid out as llama.cpp's convert_hf_to_gguf.py
// lays it out for deepseek2, llama and qwen2, weights in one chosen type
// (quantized with the llama.cpp-exact reference quantizers of src/quant,
// "pure" as llama-quantize --pure: every 2-D weight but the router).
#pragma once

#include <string>

#include "util/result.h"
#include "util/thread_pool.h"
#include "weights/dtype.h"

namespace dseek {

// How MLA's kv_b_proj is stored: split into attn_k_b / attn_v_b as current
// llama.cpp writes it (the default), or as one attn_kv_b as older files have it.
enum class KvbLayout { kSplit, kCombined };

struct ConvertOptions {
  DType type = DType::F32;  // for the 2-D weights; norms, biases and the router stay F32
  KvbLayout kv_b_layout = KvbLayout::kSplit;
  ThreadPool* pool = nullptr;  // required
  bool progress = false;       // a line per tensor on stderr
};

// The types `dseek convert --type` accepts, by their lower-case names.
bool convertible_type(DType t);

// SRC is a Hugging Face folder, or a GGUF file (re-stored in another type,
// metadata copied: e.g. a quantized file dequantized to f32).
Status convert_to_gguf(const std::string& src, const std::string& out_path, const ConvertOptions& options);

}  // namespace dseek
