#include "kernels/cpu_features.h"

#include <cpuid.h>

#include <cstdint>

namespace dseek {

namespace {

bool bit(unsigned value, int index) { return (value >> index) & 1u; }

// Which register states the OS saves on context switch (XCR0).
uint64_t os_saved_state() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    const bool osxsave = bit(ecx, 27), avx = bit(ecx, 28);
    if (!osxsave || !avx) return f;
    const uint64_t xcr0 = os_saved_state();
    const bool ymm_saved = (xcr0 & 0x6) == 0x6;    // SSE + AVX state
    const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;  // + opmask, ZMM_Hi256, Hi16_ZMM
    if (!ymm_saved) return f;
    f.fma = bit(ecx, 12);
    f.f16c = bit(ecx, 29);
    unsigned max_leaf = __get_cpuid_max(0, nullptr);
    if (max_leaf < 7) return f;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.avx2 = bit(ebx, 5);
    if (zmm_saved) {
      f.avx512f = bit(ebx, 16);
      f.avx512bw = bit(ebx, 30);
      f.avx512dq = bit(ebx, 17);
      f.avx512vl = bit(ebx, 31);
      f.avx512_vnni = bit(ecx, 11);
      f.avx512_vbmi = bit(ecx, 1);
    }
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    f.avx_vnni = bit(eax, 4);
    if (zmm_saved) f.avx512_bf16 = bit(eax, 5);
    return f;
  }();
  return features;
}

}  // namespace dseek
