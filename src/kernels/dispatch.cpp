#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"

namespace dseek::kernels {

// Defined in reference/ and in the per-instruction-set folders.
void fill_reference_table(KernelTable& table);
void fill_avx2_table(KernelTable& table);
void fill_avx512_table(KernelTable& table, bool has_bf16);
void fill_avx512_vbmi_table(KernelTable& table);

namespace {

struct Tables {
  KernelTable reference;
  KernelTable avx2;
  KernelTable avx512;
  KernelTable avx512vbmi;
  bool avx2_runnable = false;
  bool avx512_runnable = false;
  bool avx512vbmi_runnable = false;

  Tables() {
    fill_reference_table(reference);
    const CpuFeatures& cpu = cpu_features();
    avx2_runnable = cpu.avx2 && cpu.fma && cpu.f16c;
    avx2 = reference;  // entries without an AVX2 version fall back to the reference
    fill_avx2_table(avx2);
    avx512_runnable = avx2_runnable && cpu.avx512f && cpu.avx512bw && cpu.avx512vl && cpu.avx512dq &&
                      cpu.avx512_vnni;
    avx512 = avx2;  // entries without an AVX-512 version keep the AVX2 one
    fill_avx512_table(avx512, cpu.avx512_bf16);
    avx512vbmi_runnable = avx512_runnable && cpu.avx512_vbmi;
    avx512vbmi = avx512;
    fill_avx512_vbmi_table(avx512vbmi);
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const KernelTable& reference_table() { return tables().reference; }

std::vector<const KernelTable*> runnable_tables() {
  std::vector<const KernelTable*> out{&tables().reference};
  if (tables().avx2_runnable) out.push_back(&tables().avx2);
  if (tables().avx512_runnable) out.push_back(&tables().avx512);
  if (tables().avx512vbmi_runnable) out.push_back(&tables().avx512vbmi);
  return out;
}

const KernelTable& active_table() {
  static const KernelTable* chosen = [] {
    auto runnable = runnable_tables();
    const char* forced = std::getenv("DSEEK_KERNELS");
    if (forced && *forced) {
      for (const KernelTable* t : runnable)
        if (std::strcmp(t->name, forced) == 0) return t;
      std::fprintf(stderr, "dseek: DSEEK_KERNELS=%s is not available on this CPU; using %s\n", forced,
                   runnable.back()->name);
    }
    return runnable.back();  // the most capable table
  }();
  return *chosen;
}

}  // namespace dseek::kernels
