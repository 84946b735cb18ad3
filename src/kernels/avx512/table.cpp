#include "kernels/kernels.h"

namespace dseek::kernels {
namespace avx512 {
void fill_matmul(KernelTable& table, bool has_bf16);
void fill_int8_matmul(KernelTable& table);
void fill_quantize_act(KernelTable& table);
void fill_attention(KernelTable& table);
void fill_int8_matmul_vbmi(KernelTable& table);
}  // namespace avx512

// Starts from a copy of the AVX2 table: what has no AVX-512 version keeps
// the AVX2 entry. has_bf16: the CPU has AVX512_BF16 (bf16 weights then use
// the pair-dot instruction).
void fill_avx512_table(KernelTable& table, bool has_bf16) {
  table.name = "avx512";
  avx512::fill_matmul(table, has_bf16);
  avx512::fill_int8_matmul(table);
  avx512::fill_quantize_act(table);
  avx512::fill_attention(table);
  table.use_act_kernels = true;
}

// The AVX-512 table with what AVX512_VBMI (byte permutes) speeds up.
void fill_avx512_vbmi_table(KernelTable& table) {
  table.name = "avx512vbmi";
  avx512::fill_int8_matmul_vbmi(table);
}

}  // namespace dseek::kernels
