#include "kernels/cpu_features.h"

#include <cpuid.h>

namespace dseek {

namespace {
// CPUID bits that not every compiler's __builtin_cpu_supports knows
// (clang 14 rejects "f16c" and "avxvnni").
bool cpuid_bit(unsigned leaf, unsigned subleaf, int reg, unsigned bit) {
  unsigned r[4] = {};
  if (__get_cpuid_max(0, nullptr) < leaf) return false;
  __cpuid_count(leaf, subleaf, r[0], r[1], r[2], r[3]);
  return (r[reg] >> bit) & 1u;
}
}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS enables the registers.
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    // F16C and AVX-VNNI work on YMM registers: only with the OS's AVX support (checked by "avx").
    const bool avx = __builtin_cpu_supports("avx");
    f.f16c = avx && cpuid_bit(1, 0, 2, 29);         // CPUID.1:ECX.F16C[bit 29]
    f.avx512f = __builtin_cpu_supports("avx512f");
    f.avx512bw = __builtin_cpu_supports("avx512bw");
    f.avx512vl = __builtin_cpu_supports("avx512vl");
    f.avx512_vnni = __builtin_cpu_supports("avx512vnni");
    f.avx512_bf16 = __builtin_cpu_supports("avx512bf16");
    f.avx_vnni = avx && cpuid_bit(7, 1, 0, 4);      // CPUID.(7,1):EAX.AVX-VNNI[bit 4]
    return f;
  }();
  return features;
}

}  // namespace dseek
