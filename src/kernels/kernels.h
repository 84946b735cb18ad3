// Hardware kernels behind one table. Model code never calls intrinsics: it
// calls the entries of the active table (through ops.h), chosen once at
// start-up from CPUID. Every optimized entry has a scalar twin in
// reference/, and tests/kernels compares each entry of every table the CPU can
// run with that twin. DSEEK_KERNELS=reference forces the scalar table
// (DSEEK_KERNELS=avx2 and so on pick a specific one).
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include "kernels/int8_format.h"
#include "weights/dtype.h"
#include "weights/tensor.h"

namespace dseek::kernels {

// y[t*ldy + r] = dot(W[r, :], x[t*ldx ...]) for rows r in [row_begin, row_end)
// of w and tokens t in [0, n_tokens). Rows of y outside the range are untouched.
using MatmulFn = void (*)(const Tensor& w, int64_t row_begin, int64_t row_end, const float* x,
                          int64_t n_tokens, int64_t ldx, float* y, int64_t ldy);

// y[t*ldy + c] = sum over rows r of x[t*ldx + r] * W[r, c], for columns c in
// [col_begin, col_end): the product with W transposed (used to fold MLA's
// key up-projection into the query).
using MatmulTransposedFn = void (*)(const Tensor& w, int64_t col_begin, int64_t col_end,
                                    const float* x, int64_t n_tokens, int64_t ldx, float* y,
                                    int64_t ldy);

// One token's n activations x into `layout.format` (int8_format.h), writing
// layout.bytes bytes at out.
using QuantizeActFn = void (*)(const float* x, const ActLayout& layout, uint8_t* out);

// As MatmulFn, with the tokens' activations already quantized: token t's are
// at act + t * layout.bytes.
using MatmulActFn = void (*)(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act,
                             const ActLayout& layout, int64_t n_tokens, float* y, int64_t ldy);

// A table's own rearranged copy of a weight matrix, made once (at load) for
// its products with several tokens: the rearranging its matrix-matrix path
// would otherwise redo in every such product. The bytes are opaque outside
// the kernel that made them; `format` names that kernel's layout, and a
// kernel that does not know it ignores the copy. Results are the same bits
// with or without it.
struct PackedWeights {
  const void* format = nullptr;
  int64_t rows = 0;  // rows covered, from row 0 (whole tiles)
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<uint8_t, Free> bytes;  // 64-byte aligned
  int64_t n_bytes = 0;
};
// The packed copy of w, or null where the table has no packed layout for it.
using PackFn = std::unique_ptr<PackedWeights> (*)(const Tensor& w);

// Causal attention of queries over cached keys/values, for (token, head)
// tasks [task_begin, task_end) with task = t * n_heads + h.
struct AttentionArgs {
  int64_t n_tokens = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;  // query head h reads kv head h / (n_heads / n_kv_heads)
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  const float* q = nullptr;  // q[t*q_token_stride + h*q_head_stride + i]
  int64_t q_token_stride = 0, q_head_stride = 0;
  // Keys and values (a KV cache's rows) of type kv_type (F32, F16 or BF16);
  // strides in elements: key j of kv head kvh starts at element
  // j*k_token_stride + kvh*k_head_stride of k.
  const void* k = nullptr;
  int64_t k_token_stride = 0, k_head_stride = 0;
  const void* v = nullptr;
  int64_t v_token_stride = 0, v_head_stride = 0;
  DType kv_type = DType::F32;
  int64_t n_keys = 0;
  const int64_t* q_pos = nullptr;  // key j is visible to token t iff j <= q_pos[t]
  float scale = 1.0f;
  float* out = nullptr;  // out[t*out_token_stride + h*out_head_stride + i]
  int64_t out_token_stride = 0, out_head_stride = 0;
};
using AttentionFn = void (*)(const AttentionArgs& a, int64_t task_begin, int64_t task_end);

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]
using RmsNormFn = void (*)(const float* x, const float* weight, int64_t n, float eps, float* out);
// In place, numerically stable.
using SoftmaxFn = void (*)(float* x, int64_t n);
// out[i] = silu(gate[i]) * up[i]
using SiluMulFn = void (*)(const float* gate, const float* up, int64_t n, float* out);

// Indices of the k largest of x[0..n), largest first; ties: lowest index
// first. Entries equal to -inf are never chosen ahead of finite ones.
using TopKFn = void (*)(const float* x, int64_t n, int64_t k, int32_t* out);

enum class RopeStyle {
  kInterleaved,  // rotate adjacent pairs (2i, 2i+1): DeepSeek's checkpoints
  kHalfSplit,    // rotate (i, i + d/2) ("rotate_half", NeoX): HF llama/qwen2
};
// Rotates x[0..2*n_pairs) in place by angles with cos/sin given per pair.
using RopeFn = void (*)(float* x, int64_t n_pairs, const float* cos, const float* sin, RopeStyle style);

struct KernelTable {
  const char* name = "";
  MatmulFn matmul[static_cast<int>(DType::kCount)] = {};
  // Products on quantized activations (int8 dot products for block types,
  // bf16 pairs for BF16): matmul_act[t] reads act_format[t]. The reference
  // table carries the scalar twins of these but does not use them
  // (use_act_kernels false): its matmul is the definition.
  QuantizeActFn quantize_act[static_cast<int>(ActFormat::kCount)] = {};
  MatmulActFn matmul_act[static_cast<int>(DType::kCount)] = {};
  ActFormat act_format[static_cast<int>(DType::kCount)] = {};
  bool use_act_kernels = false;
  PackFn pack[static_cast<int>(DType::kCount)] = {};  // optional, per weight dtype
  MatmulTransposedFn matmul_transposed[static_cast<int>(DType::kCount)] = {};
  AttentionFn attention = nullptr;
  RmsNormFn rmsnorm = nullptr;
  SoftmaxFn softmax = nullptr;
  SiluMulFn silu_mul = nullptr;
  RopeFn rope = nullptr;
  TopKFn topk = nullptr;
};

const KernelTable& reference_table();
// The table used by the engine; chosen once (CPUID, DSEEK_KERNELS).
const KernelTable& active_table();
// Every table this CPU can run, reference first (for tests and benchmarks).
std::vector<const KernelTable*> runnable_tables();

}  // namespace dseek::kernels
