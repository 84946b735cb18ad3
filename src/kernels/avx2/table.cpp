#include "kernels/kernels.h"

namespace dseek::kernels {
namespace avx2 {
void fill_matmul(KernelTable& table);
void fill_attention(KernelTable& table);
}  // namespace avx2

// Starts from a copy of the reference table: what has no AVX2 version keeps
// the reference entry.
void fill_avx2_table(KernelTable& table) {
  table.name = "avx2";
  avx2::fill_matmul(table);
  avx2::fill_attention(table);
}

}  // namespace dseek::kernels
