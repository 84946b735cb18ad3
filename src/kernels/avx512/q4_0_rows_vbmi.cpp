// Q4_0 times int8 activations for one to a few tokens, row by row, with the
// byte permutes of AVX512_VBMI (the avx512vbmi kernel table). The same
// integer block sums and float order as the scalar twin, bit for bit.
#include "kernels/avx512/int8_blocks.h"

namespace dseek::kernels::avx512 {
namespace {

// ---- Q4_0 rows with byte permutes (AVX512_VBMI) ------------------------------
//
// The plain row path spends most of its instructions unpacking nibbles into
// the blocks' natural order and reducing each block's eight dot-product
// lanes. Here one vpermt2b takes the nibble bytes of four blocks at once
// (skipping their scales), the activations are rearranged once per call into
// the order those nibbles come in, and a 4x4 transpose-add leaves the 16
// block sums of a chunk in lane L = 4j + g for block 4g + j. The partial sums
// live in that lane order until the whole chunks are done and are then put
// back: the same integer block sums and the same float operations as the
// scalar twin, in the same order.

// Lane L of a chunk holds block lane_blocks()[L] = 4 * (L % 4) + L / 4 (a
// permutation that is its own inverse).
DSEEK_TARGET_AVX512 inline __m512i lane_blocks() {
  return _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
}

// The lanes L = 4j + g of groups g < groups.
inline __mmask16 group_lanes(int groups) {
  const unsigned one_j = (1u << groups) - 1u;  // g = 0 .. groups-1 of one j
  return static_cast<__mmask16>(one_j | one_j << 4 | one_j << 8 | one_j << 12);
}

// Per token, what the permuted path reads: for each chunk, the 512
// activations in nibble order, then the 16 offsets (8 * sum32) and scales
// in lane order. The last chunk may have only 1-3 of its four groups of
// four blocks (a 1408-column expert matrix has 44 blocks: 2 chunks and 3
// groups); its missing lanes hold zeros.
struct VbmiActs {
  static constexpr int64_t kChunkBytes = 512 + 64 + 64;
  const uint8_t* base = nullptr;
  int64_t per_token = 0;
  const __m512i* q(int64_t t, int64_t chunk) const {
    return reinterpret_cast<const __m512i*>(base + t * per_token + chunk * kChunkBytes);
  }
};

// The chunks of a row: whole ones, then `last_groups` groups of a partial
// one (0: none) when the row ends with it. Otherwise (nb % 4 != 0) the
// blocks after the whole chunks take legacy_chunk, which starts at a
// multiple of 16 blocks.
struct VbmiChunks {
  int64_t whole = 0;
  int last_groups = 0;
  explicit VbmiChunks(int64_t nb) : whole(nb / 16), last_groups(nb % 4 == 0 ? static_cast<int>(nb / 4 % 4) : 0) {}
  int64_t count() const { return whole + (last_groups > 0 ? 1 : 0); }
  int groups(int64_t c) const { return c < whole ? 4 : last_groups; }
  int64_t blocks() const { return 16 * whole + 4 * last_groups; }
};

DSEEK_TARGET_AVX512VBMI void prepare_vbmi_acts(const uint8_t* act, const ActLayout& layout, int64_t n_tokens,
                                               const VbmiChunks& chunks, uint8_t* out) {
  const __m512i lanes = lane_blocks();
  alignas(64) int8_t lo_idx[64], hi_idx[64];
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 16; ++i) {
      lo_idx[16 * j + i] = static_cast<int8_t>(32 * j + i);
      hi_idx[16 * j + i] = static_cast<int8_t>(32 * j + 16 + i);
    }
  const __m512i lo = _mm512_load_si512(lo_idx), hi = _mm512_load_si512(hi_idx);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const ActView a{act + t * layout.bytes, &layout};
    uint8_t* dst = out + t * chunks.count() * VbmiActs::kChunkBytes;
    for (int64_t c = 0; c < chunks.count(); ++c, dst += VbmiActs::kChunkBytes) {
      const int8_t* x = a.q() + 512 * c;
      __m512i* q = reinterpret_cast<__m512i*>(dst);
      const int groups = chunks.groups(c);
      for (int g = 0; g < 4; ++g) {
        if (g >= groups) {
          _mm512_store_si512(q + 2 * g, _mm512_setzero_si512());
          _mm512_store_si512(q + 2 * g + 1, _mm512_setzero_si512());
          continue;
        }
        const __m512i x0 = _mm512_loadu_si512(x + 128 * g), x1 = _mm512_loadu_si512(x + 128 * g + 64);
        _mm512_store_si512(q + 2 * g, _mm512_permutex2var_epi8(x0, lo, x1));
        _mm512_store_si512(q + 2 * g + 1, _mm512_permutex2var_epi8(x0, hi, x1));
      }
      // Blocks of the chunk that exist (loads stop at the row's last group).
      const __mmask16 live = static_cast<__mmask16>((1u << (4 * groups)) - 1u);
      const __m512i sum32 = _mm512_permutexvar_epi32(lanes, _mm512_maskz_loadu_epi32(live, a.sum32() + 16 * c));
      _mm512_store_si512(q + 8, _mm512_slli_epi32(sum32, Legacy<DType::Q4_0>::kOffsetShift));
      _mm512_store_ps(reinterpret_cast<float*>(q + 9),
                      _mm512_permutexvar_ps(lanes, _mm512_maskz_loadu_ps(live, a.d() + 16 * c)));
    }
  }
}

}  // namespace

DSEEK_TARGET_AVX512VBMI void q4_0_rows_vbmi(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act,
                                            const ActLayout& layout, int64_t n_tokens, float* y, int64_t ldy) {
  using L = Legacy<DType::Q4_0>;
  const int64_t nb = w.cols() / 32;
  const VbmiChunks chunks(nb);
  const int64_t stride = w.row_stride_bytes();
  VbmiActs acts;
  acts.per_token = chunks.count() * VbmiActs::kChunkBytes;
  uint8_t* prepared = scratch<1>(static_cast<size_t>(n_tokens * acts.per_token));
  prepare_vbmi_acts(act, layout, n_tokens, chunks, prepared);
  acts.base = prepared;
  const __m512i lanes = lane_blocks();
  // Scale of lane L = 4j + g: bytes 18j, 18j+1 of group g; d_idx serves a
  // pair of groups (g % 2 picks the table), kUpperPair the lanes of groups 2, 3.
  alignas(64) int8_t d_idx_bytes[64] = {};
  for (int lane = 0; lane < 16; ++lane) {
    const int j = lane / 4, g = lane % 4;
    d_idx_bytes[2 * lane] = static_cast<int8_t>(L::kBytes * j + 64 * (g % 2));
    d_idx_bytes[2 * lane + 1] = static_cast<int8_t>(L::kBytes * j + 1 + 64 * (g % 2));
  }
  const __m512i d_idx = _mm512_load_si512(d_idx_bytes);
  constexpr __mmask32 kUpperPair = 0xCCCC;  // lanes with g = 2, 3
  alignas(64) int8_t w_idx_bytes[64];
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 16; ++i) w_idx_bytes[16 * j + i] = static_cast<int8_t>(L::kBytes * j + 2 + i);
  const __m512i w_idx = _mm512_load_si512(w_idx_bytes);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = w.data + r * stride;
    if (r + kRowsAhead < w.rows()) prefetch_bytes(row + kRowsAhead * stride, stride);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
      const int nt = static_cast<int>(std::min<int64_t>(kTokenTile, n_tokens - t0));
      __m512 p[kTokenTile];
      for (int k = 0; k < kTokenTile; ++k) p[k] = _mm512_setzero_ps();
      for (int64_t c = 0; c < chunks.count(); ++c) {
        const uint8_t* chunk = row + 16 * c * L::kBytes;
        const int groups = chunks.groups(c);
        __m512i wlo[4], whi[4], head[4];
        for (int g = 0; g < 4; ++g) {
          if (g >= groups) {  // past the row's end: no weights, scale 0
            head[g] = wlo[g] = whi[g] = _mm512_setzero_si512();
            continue;
          }
          const uint8_t* blocks = chunk + 4 * g * L::kBytes;  // 72 bytes: 4 blocks
          head[g] = _mm512_loadu_si512(blocks);
          const __m512i tail = _mm512_zextsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blocks + 64)));
          const __m512i nib = _mm512_permutex2var_epi8(head[g], w_idx, tail);
          wlo[g] = _mm512_and_si512(nib, low4);
          whi[g] = _mm512_and_si512(_mm512_srli_epi16(nib, 4), low4);
        }
        // The 16 scales (each group's four sit in its first 64 bytes), in lane order.
        const __m512i d01 = _mm512_permutex2var_epi8(head[0], d_idx, head[1]);
        const __m512i d23 = _mm512_permutex2var_epi8(head[2], d_idx, head[3]);
        const __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_mask_blend_epi16(kUpperPair, d01, d23)));
        for (int k = 0; k < nt; ++k) {
          const __m512i* x = acts.q(t0 + k, c);
          __m512i s[4];
          for (int g = 0; g < 4; ++g)
            s[g] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wlo[g], _mm512_load_si512(x + 2 * g)),
                                       whi[g], _mm512_load_si512(x + 2 * g + 1));
          // 4x4 transpose-add within 128-bit lanes: lane 4j + g = block 4g + j.
          const __m512i s01 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[0], s[1]), _mm512_unpackhi_epi32(s[0], s[1]));
          const __m512i s23 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[2], s[3]), _mm512_unpackhi_epi32(s[2], s[3]));
          __m512i isum = _mm512_add_epi32(_mm512_unpacklo_epi64(s01, s23), _mm512_unpackhi_epi64(s01, s23));
          isum = _mm512_sub_epi32(isum, _mm512_load_si512(x + 8));
          const __m512 scale = _mm512_mul_ps(dw, _mm512_load_ps(reinterpret_cast<const float*>(x + 9)));
          // Lanes of missing groups (g = L % 4 >= groups) are left alone,
          // as the twin never adds those blocks (+0 would turn -0 to +0).
          p[k] = _mm512_mask3_fmadd_ps(_mm512_cvtepi32_ps(isum), scale, p[k], group_lanes(groups));
        }
      }
      for (int k = 0; k < nt; ++k) p[k] = _mm512_permutexvar_ps(lanes, p[k]);  // back to block order
      const int64_t done = chunks.blocks();
      if (nb > done)
        legacy_chunk<DType::Q4_0>(row + done * L::kBytes, static_cast<int>(nb - done), done, act, layout, t0, nt, p);
      for (int k = 0; k < nt; ++k) y[(t0 + k) * ldy + r] = tree16(p[k]);
    }
  }
}

}  // namespace dseek::kernels::avx512
