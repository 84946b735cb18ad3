// The scale searches of llama.cpp's reference k-quant quantizers
// (make_qx_quants, make_q3_quants, make_qkx2_quants in ggml-quants.c). Their
// float operations are reproduced in the same order, because the chosen
// scales decide every byte of the output. (src/quant is compiled with
// -ffp-contract=off so that no compiler fuses a multiply and an add.)
#pragma once

#include <cstdint>

namespace dseek::quant {

// Below this largest magnitude a group counts as all zero.
inline constexpr float kGroupMaxEps = 1e-15f;

// Symmetric levels in [-nmax, nmax) for n values: tries 19 candidate scales
// around nmax/max|x| and keeps the one with the best x^2-weighted least
// squares fit. L receives levels + nmax; returns the scale (x ~ scale * level).
float fit_symmetric_scale(int n, int nmax, const float* x, int8_t* L);

// As fit_symmetric_scale, but refined by up to five passes that move single
// levels when that improves the x^2-weighted fit (Q3_K).
float fit_symmetric_scale_refined(int n, int nmax, const float* x, int8_t* L);

// Asymmetric levels in [0, nmax] with an offset: x ~ scale * level - the_min.
// Searches nstep+1 scales from (nmax + rmin) / range in steps of rdelta and
// keeps the best weighted fit (absolute error when use_mad, else squared).
float fit_scale_and_min(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                        uint8_t* L_scratch, float rmin, float rdelta, int nstep, bool use_mad);

}  // namespace dseek::quant
