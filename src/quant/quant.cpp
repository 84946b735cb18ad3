#include "quant/quant.h"

#include "quant/formats.h"
#include "util/numeric_formats.h"
#include "util/result.h"

#include <cstring>

namespace dseek::quant {

namespace {

struct Format {
  void (*dequantize)(const uint8_t*, float*, int64_t);
  void (*quantize)(const float*, uint8_t*, int64_t);
};

const Format* block_format(DType t) {
  static const Format q8_0{dequantize_q8_0, quantize_q8_0}, q4_0{dequantize_q4_0, quantize_q4_0},
      q4_1{dequantize_q4_1, quantize_q4_1}, q5_0{dequantize_q5_0, quantize_q5_0},
      q5_1{dequantize_q5_1, quantize_q5_1}, q2_k{dequantize_q2_k, quantize_q2_k},
      q3_k{dequantize_q3_k, quantize_q3_k}, q4_k{dequantize_q4_k, quantize_q4_k},
      q5_k{dequantize_q5_k, quantize_q5_k}, q6_k{dequantize_q6_k, quantize_q6_k};
  switch (t) {
    case DType::Q8_0: return &q8_0;
    case DType::Q4_0: return &q4_0;
    case DType::Q4_1: return &q4_1;
    case DType::Q5_0: return &q5_0;
    case DType::Q5_1: return &q5_1;
    case DType::Q2_K: return &q2_k;
    case DType::Q3_K: return &q3_k;
    case DType::Q4_K: return &q4_k;
    case DType::Q5_K: return &q5_k;
    case DType::Q6_K: return &q6_k;
    default: return nullptr;
  }
}

}  // namespace

bool is_supported(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 || block_format(t) != nullptr;
}

void dequantize(DType t, const uint8_t* src, float* dst, int64_t n) {
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(n));
      return;
    case DType::F16:
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = t == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      return;
    default: break;
  }
  const Format* f = block_format(t);
  DSEEK_CHECK(f != nullptr && n % dtype_info(t).block_elements == 0);
  f->dequantize(src, dst, n / dtype_info(t).block_elements);
}

void quantize(DType t, const float* src, uint8_t* dst, int64_t n) {
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(n));
      return;
    case DType::F16:
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = t == DType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    default: break;
  }
  const Format* f = block_format(t);
  DSEEK_CHECK(f != nullptr && n % dtype_info(t).block_elements == 0);
  f->quantize(src, dst, n / dtype_info(t).block_elements);
}

}  // namespace dseek::quant
