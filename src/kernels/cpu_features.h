// What the CPU we run on can do, read once from CPUID (and the OS's
// willingness to save the wider registers).
#pragma once

namespace dseek {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512_vnni = false;
  bool avx512_vbmi = false;
  bool avx512_bf16 = false;
  bool avx_vnni = false;
};

const CpuFeatures& cpu_features();

}  // namespace dseek
