#include "kernels/kernels.h"

namespace dseek::kernels {

void matmul_reference(const Tensor&, int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t);
void matmul_transposed_reference(const Tensor&, int64_t, int64_t, const float*, int64_t, int64_t, float*,
                                 int64_t);
void attention_reference(const AttentionArgs&, int64_t, int64_t);
void rmsnorm_reference(const float*, const float*, int64_t, float, float*);
void softmax_reference(float*, int64_t);
void silu_mul_reference(const float*, const float*, int64_t, float*);
void rope_reference(float*, int64_t, const float*, const float*, RopeStyle);
void topk_reference(const float*, int64_t, int64_t, int32_t*);

void fill_reference_table(KernelTable& table) {
  table.name = "reference";
  // Block-quantized weights: dequantize a row, then dot in f32 (the meaning
  // that the int8 SIMD kernels are checked against).
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F8_E4M3, DType::Q8_0, DType::Q4_0, DType::Q4_1,
                  DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    table.matmul[static_cast<int>(t)] = matmul_reference;
    table.matmul_transposed[static_cast<int>(t)] = matmul_transposed_reference;
  }
  table.attention = attention_reference;
  table.rmsnorm = rmsnorm_reference;
  table.softmax = softmax_reference;
  table.silu_mul = silu_mul_reference;
  table.rope = rope_reference;
  table.topk = topk_reference;
}

}  // namespace dseek::kernels
