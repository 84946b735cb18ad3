#include "kernels/kernels.h"

namespace dseek::kernels {
namespace avx2 {
void fill_matmul(KernelTable& table);
void fill_attention(KernelTable& table);
void fill_int8_matmul(KernelTable& table);
void fill_quantize_act(KernelTable& table);
}  // namespace avx2

// Starts from a copy of the reference table: what has no AVX2 version keeps
// the reference entry.
void fill_avx2_table(KernelTable& table) {
  table.name = "avx2";
  // The reference table's activation kernels are scalar twins: none of them
  // is kept (BF16 weights stay on the f32 path here).
  for (auto& fn : table.matmul_act) fn = nullptr;
  for (auto& f : table.act_format) f = ActFormat::kF32;
  avx2::fill_matmul(table);
  avx2::fill_attention(table);
  avx2::fill_int8_matmul(table);
  avx2::fill_quantize_act(table);
  table.use_act_kernels = true;
}

}  // namespace dseek::kernels
