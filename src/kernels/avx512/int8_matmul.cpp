// Int8 products of block-quantized weights with int8 activations (AVX-512
// VNNI): the weights of a block are unpacked to unsigned bytes in their
// natural order (value + a per-type offset, which makes them unsigned), one
// vpdpbusd multiplies 64 of them with 64 activations, and the integer
// offsets, scales and mins are applied in the integer domain before the
// floats are combined in the canonical order of int8_format.h. The results
// equal the scalar twins (reference/int8_matmul.cpp) bit for bit.
//
// This file: the matrix-matrix path (16-row tiles, rearranged on the way or
// kept packed from load), the k-quants, and the table entries. The row path
// for few tokens is in int8_blocks.h, Q4_0's VBMI rows in q4_0_rows_vbmi.cpp.
#include <cmath>
#include <memory>

#include "kernels/avx512/int8_blocks.h"
#include "quant/blocks.h"

namespace dseek::kernels::avx512 {
namespace {

// ---- matrix-matrix: 16 rows at a time ---------------------------------------
//
// A tile of 16 rows is first rearranged ("repacked", into per-thread
// scratch, the file is never written) so that one vector holds the same four
// weights of all 16 rows: vector k of block b has, in lane r, row r's
// elements 4k..4k+3 of that block. vpdpbusd with four activations of a token
// broadcast to every lane then adds one token's block product to all 16 rows
// at once, and the scales of the 16 rows are one vector. The floats still
// follow the canonical order: partial sum j of a row collects blocks
// j, j+16, j+32, ... in increasing order. Four-bit types keep two weights
// per byte in the tile (vector k + 4 in the high nibbles of vector k), so a
// tile is as large as the rows it came from and a tile kept from one product
// to the next (pack_legacy) costs no more memory bandwidth than the rows.

// The 16-row tile: per block kVecs vectors of weights and the 16 rows' d (and m).
struct Tile {
  __m512i* w = nullptr;  // [nb][kVecs]
  float* d = nullptr;    // [nb][16]
  float* m = nullptr;    // [nb][16]
  // The tile the next product will read (a packed copy's next tile), or
  // null: fetched ahead, a block's share of its bytes per block, while this
  // tile's tokens compute; left to the hardware prefetcher, the packed
  // stream arrives at a third of the rate the rows stream does.
  const uint8_t* next = nullptr;
};

template <DType T>
constexpr int64_t tile_vectors() {
  return Legacy<T>::kNibbles ? 4 : 8;
}

// Bytes of one tile of nb blocks: weights, d, and m for types with a min.
template <DType T>
constexpr int64_t tile_bytes(int64_t nb) {
  return nb * 64 * (tile_vectors<T>() + (Legacy<T>::kMin ? 2 : 1));
}

// A tile laid out in bytes [w | d | m].
template <DType T>
Tile tile_at(uint8_t* p, int64_t nb) {
  const int64_t w_bytes = nb * 64 * tile_vectors<T>();
  return Tile{reinterpret_cast<__m512i*>(p), reinterpret_cast<float*>(p + w_bytes),
              reinterpret_cast<float*>(p + w_bytes + nb * 64)};
}

// 8 vectors v[i] = [row i (8 dwords) | row i + 8 (8 dwords)] to 8 vectors
// out[k] = [dword k of rows 0..7 | dword k of rows 8..15].
DSEEK_TARGET_AVX512 inline void transpose_8x8_halves(const __m512i v[8], __m512i out[8]) {
  __m512i t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3 from t[0..3], rows 4-7 from t[4..7]
    const __m512i* tt = t + 4 * h;
    u[4 * h + 0] = _mm512_unpacklo_epi64(tt[0], tt[2]);  // dwords 0 / 4 of four rows
    u[4 * h + 1] = _mm512_unpackhi_epi64(tt[0], tt[2]);  // 1 / 5
    u[4 * h + 2] = _mm512_unpacklo_epi64(tt[1], tt[3]);  // 2 / 6
    u[4 * h + 3] = _mm512_unpackhi_epi64(tt[1], tt[3]);  // 3 / 7
  }
  const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
  const __m512i second = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  for (int k = 0; k < 4; ++k) {
    out[k] = _mm512_permutex2var_epi64(u[k], first, u[k + 4]);
    out[k + 4] = _mm512_permutex2var_epi64(u[k], second, u[k + 4]);
  }
}

// The four tile vectors of one 4-bit block of 16 rows (16 bytes of nibbles
// each at qs + r * stride). Byte i of a block holds element i in its low
// nibble and element i + 16 in its high one, which is the tile's pairing
// (vector k: elements 4k..4k+3 low, 16+4k.. high), so the tile is dword k
// of every row: a 16 x 4 dword transpose, with no nibble taken apart.
DSEEK_TARGET_AVX512 inline void nibble_tile_block(const uint8_t* qs, int64_t stride, __m512i* out) {
  __m512i z[4];  // z[g]: rows 4g..4g+3, a 128-bit lane each
  for (int g = 0; g < 4; ++g) {
    const uint8_t* r = qs + 4 * g * stride;
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + stride)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + 2 * stride)), 2);
    z[g] = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + 3 * stride)), 3);
  }
  // Rows 0-7 (from z[0], z[1]) and 8-15 (z[2], z[3]): dwords 0 and 1, then 2 and 3.
  const __m512i dwords01 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
  const __m512i dwords23 = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
  const __m512i lo01 = _mm512_permutex2var_epi32(z[0], dwords01, z[1]);
  const __m512i lo23 = _mm512_permutex2var_epi32(z[0], dwords23, z[1]);
  const __m512i hi01 = _mm512_permutex2var_epi32(z[2], dwords01, z[3]);
  const __m512i hi23 = _mm512_permutex2var_epi32(z[2], dwords23, z[3]);
  out[0] = _mm512_shuffle_i64x2(lo01, hi01, 0x44);  // low halves: dword 0 of rows 0-7, then 8-15
  out[1] = _mm512_shuffle_i64x2(lo01, hi01, 0xEE);  // high halves: dword 1
  out[2] = _mm512_shuffle_i64x2(lo23, hi23, 0x44);
  out[3] = _mm512_shuffle_i64x2(lo23, hi23, 0xEE);
}

// `next`: the first of the 16 rows the following tile will be made of, or
// null; their bytes are fetched while this tile is made, a cache line of
// each row per line's worth of blocks (16 row streams at once are more than
// the hardware prefetcher follows).
template <DType T>
DSEEK_TARGET_AVX512 void repack_tile(const uint8_t* rows0, int64_t stride, int64_t nb, const Tile& tile,
                                     const uint8_t* next = nullptr) {
  using L = Legacy<T>;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = rows0 + b * L::kBytes;
    if (next != nullptr && (b == 0 || (b * L::kBytes) / 64 != ((b + 1) * L::kBytes - 1) / 64)) {
      const uint8_t* line = next + b * L::kBytes;
      for (int i = 0; i < 16; ++i, line += stride) _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
    }
    if constexpr (L::kNibbles) {
      nibble_tile_block(blk + L::kBytes - 16, stride, tile.w + 4 * b);
    } else {
      __m512i v[8];
      for (int i = 0; i < 8; ++i) v[i] = L::pair(blk + i * stride, blk + (i + 8) * stride);
      transpose_8x8_halves(v, tile.w + 8 * b);
    }
    // d (and m) of the 16 rows through memory: faster than vpgatherdd on Zen.
    alignas(64) uint32_t dm_rows[16];
    for (int i = 0; i < 16; ++i) dm_rows[i] = load_u32(blk + i * stride);
    const __m512i dm = _mm512_load_si512(dm_rows);
    _mm512_store_ps(tile.d + 16 * b, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dm)));
    if constexpr (L::kMin) _mm512_store_ps(tile.m + 16 * b, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16))));
  }
}

inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The tokens of one product in groups of 8, 4, 2 and 1 (the kernels'
// register blocking): the size of the group that starts `left` tokens
// before the end.
inline int token_group(int64_t left) { return left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1; }

// The activations a group of NT tokens reads per block, side by side, so
// that one pointer with constant offsets reaches all of them (per-token
// pointers would take more registers than x86 has): NT x 32 quantized
// values, NT scales, NT accumulator starts (the offset term, -sum32 <<
// shift), and NT mins' factors for types with one. Built once per product.
template <DType T>
constexpr int64_t panel_bytes_per_token_block() {
  return 32 + 4 + 4 + (Legacy<T>::kMin ? 4 : 0);
}

template <DType T>
DSEEK_TARGET_AVX512 const uint8_t* build_panels(const uint8_t* act, const ActLayout& layout, int64_t n_tokens,
                                                int64_t nb) {
  using L = Legacy<T>;
  constexpr int64_t kPer = panel_bytes_per_token_block<T>();
  uint8_t* panels = scratch<2>(static_cast<size_t>(n_tokens * nb * kPer));
  for (int64_t t0 = 0; t0 < n_tokens;) {
    const int nt = token_group(n_tokens - t0);
    uint8_t* group = panels + t0 * nb * kPer;
    for (int t = 0; t < nt; ++t) {
      const ActView a{act + (t0 + t) * layout.bytes, &layout};
      for (int64_t b = 0; b < nb; ++b) {
        uint8_t* block = group + b * nt * kPer;
        std::memcpy(block + 32 * t, a.q() + 32 * b, 32);
        std::memcpy(block + 32 * nt + 4 * t, a.d() + b, 4);
        const int32_t start = L::kOffsetShift >= 0 ? -(a.sum32()[b] << std::max(L::kOffsetShift, 0)) : 0;
        std::memcpy(block + 36 * nt + 4 * t, &start, 4);
        if constexpr (L::kMin) std::memcpy(block + 40 * nt + 4 * t, a.sx() + b, 4);
      }
    }
    t0 += nt;
  }
  return panels;
}

// NT tokens (their panel) times G repacked tiles (rows 16g.. of the output
// for tile g): y[t*ldy + 16*g + lane]. Tiles are taken G at a time so that
// each broadcast activation feeds G multiplies.
template <DType T, int NT, int G>
DSEEK_TARGET_AVX512 void tile_tokens(const Tile* tiles, int64_t nb, const uint8_t* panel, float* y, int64_t ldy) {
  using L = Legacy<T>;
  constexpr int64_t kBlock = NT * panel_bytes_per_token_block<T>();
  // Blocks in storage order (the hardware prefetcher follows it), each
  // adding to its partial sum j = b % 16 kept in L1: the same sums, in the
  // same order, as walking j then b.
  alignas(64) float partial[G][NT][16][16];  // [tile][token][j][row]
  for (int g = 0; g < G; ++g)
    for (int t = 0; t < NT; ++t)
      for (int64_t j = 0; j < 16; ++j) _mm512_store_ps(partial[g][t][j], _mm512_setzero_ps());
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t j = b & 15;
    const uint8_t* xb = panel + b * kBlock;
    const int8_t* xq = reinterpret_cast<const int8_t*>(xb);
    const float* xd = reinterpret_cast<const float*>(xb + 32 * NT);
    const int32_t* xstart = reinterpret_cast<const int32_t*>(xb + 36 * NT);
    const float* xsx = reinterpret_cast<const float*>(xb + 40 * NT);
    __m512i acc[G][NT];
    for (int t = 0; t < NT; ++t) {
      const __m512i start = _mm512_set1_epi32(xstart[t]);
      for (int g = 0; g < G; ++g) acc[g][t] = start;
    }
    // The next tiles, a block's share of their bytes per block (unrolled:
    // a loop of prefetches costs as much as a tenth of the multiplies).
    constexpr int64_t kShare = tile_bytes<T>(1);
    for (int g = 0; g < G; ++g)
      if (tiles[g].next != nullptr) {
#pragma GCC unroll 16
        for (int64_t line = 0; line < kShare; line += 64)
          _mm_prefetch(reinterpret_cast<const char*>(tiles[g].next + b * kShare + line), _MM_HINT_T0);
      }
    // Unrolled: a loop here keeps the accumulators in an array the compiler
    // copies between registers on every pass.
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      __m512i wk[G];
#pragma GCC unroll 2
      for (int g = 0; g < G; ++g) {
        const __m512i* w = tiles[g].w + tile_vectors<T>() * b;
        if constexpr (L::kNibbles)
          wk[g] = _mm512_and_si512(k < 4 ? _mm512_load_si512(w + k) : _mm512_srli_epi16(_mm512_load_si512(w + k - 4), 4),
                                   _mm512_set1_epi8(0x0F));
        else wk[g] = _mm512_load_si512(w + k);
      }
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        const __m512i x = _mm512_set1_epi32(load_i32(xq + 32 * t + 4 * k));
#pragma GCC unroll 2
        for (int g = 0; g < G; ++g) acc[g][t] = _mm512_dpbusd_epi32(acc[g][t], wk[g], x);
      }
    }
    for (int g = 0; g < G; ++g) {
      const __m512 d = _mm512_load_ps(tiles[g].d + 16 * b);
      for (int t = 0; t < NT; ++t) {
        __m512 p = _mm512_load_ps(partial[g][t][j]);
        p = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[g][t]), _mm512_mul_ps(d, _mm512_set1_ps(xd[t])), p);
        if constexpr (L::kMin) p = _mm512_fmadd_ps(_mm512_load_ps(tiles[g].m + 16 * b), _mm512_set1_ps(xsx[t]), p);
        _mm512_store_ps(partial[g][t][j], p);
      }
    }
  }
  // tree16 over j, for all 16 rows at once.
  for (int g = 0; g < G; ++g)
    for (int t = 0; t < NT; ++t) {
      __m512 q[8];
      for (int j = 0; j < 8; ++j) q[j] = _mm512_add_ps(_mm512_load_ps(partial[g][t][j]), _mm512_load_ps(partial[g][t][j + 8]));
      for (int j = 0; j < 4; ++j) q[j] = _mm512_add_ps(q[j], q[j + 4]);
      const __m512 c0 = _mm512_add_ps(q[0], q[2]), c1 = _mm512_add_ps(q[1], q[3]);
      _mm512_storeu_ps(y + t * ldy + 16 * g, _mm512_add_ps(c0, c1));
    }
}

// Every token (the panels of build_panels) times G tiles of rows r0..r0+16G-1.
template <DType T, int G>
DSEEK_TARGET_AVX512 void tile_all_tokens(const Tile* tiles, int64_t nb, int64_t r0, const uint8_t* panels,
                                         int64_t n_tokens, float* y, int64_t ldy) {
  for (int64_t t0 = 0; t0 < n_tokens;) {
    const int nt = token_group(n_tokens - t0);
    const uint8_t* panel = panels + t0 * nb * panel_bytes_per_token_block<T>();
    float* yt = y + t0 * ldy + r0;
    switch (nt) {
      case 8: tile_tokens<T, 8, G>(tiles, nb, panel, yt, ldy); break;
      case 4: tile_tokens<T, 4, G>(tiles, nb, panel, yt, ldy); break;
      case 2: tile_tokens<T, 2, G>(tiles, nb, panel, yt, ldy); break;
      default: tile_tokens<T, 1, G>(tiles, nb, panel, yt, ldy); break;
    }
    t0 += nt;
  }
}

// G tiles (1 or 2) from rows r0.., through tile_all_tokens.
template <DType T>
DSEEK_TARGET_AVX512 void tiles_all_tokens(int g, const Tile* tiles, int64_t nb, int64_t r0, const uint8_t* panels,
                                          int64_t n_tokens, float* y, int64_t ldy) {
  if (g == 2) tile_all_tokens<T, 2>(tiles, nb, r0, panels, n_tokens, y, ldy);
  else tile_all_tokens<T, 1>(tiles, nb, r0, panels, n_tokens, y, ldy);
}

// Rows [row_begin, row_end) (whole tiles), two tiles at a time, each
// rearranged on the way.
template <DType T>
DSEEK_TARGET_AVX512 void matmul_legacy_tiles(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act,
                                             const ActLayout& layout, int64_t n_tokens, float* y, int64_t ldy) {
  const int64_t nb = w.cols() / 32;
  const int64_t stride = w.row_stride_bytes();
  const uint8_t* panels = build_panels<T>(act, layout, n_tokens, nb);
  uint8_t* buffer = scratch<0>(static_cast<size_t>(2 * tile_bytes<T>(nb)));
  const Tile tiles[2] = {tile_at<T>(buffer, nb), tile_at<T>(buffer + tile_bytes<T>(nb), nb)};
  for (int64_t r0 = row_begin; r0 + 16 <= row_end;) {
    const int g = r0 + 32 <= row_end ? 2 : 1;
    for (int i = 0; i < g; ++i) {
      const int64_t first = r0 + 16 * i;
      const uint8_t* next = first + 32 <= w.rows() ? w.data + (first + 16) * stride : nullptr;
      repack_tile<T>(w.data + first * stride, stride, nb, tiles[i], next);
    }
    tiles_all_tokens<T>(g, tiles, nb, r0, panels, n_tokens, y, ldy);
    r0 += 16 * g;
  }
}

// The packed copy (pack_legacy): every tile of the matrix, rearranged once.
// `format` is this address, per type.
template <DType T>
const char kPackedTiles = 0;

template <DType T>
DSEEK_TARGET_AVX512 std::unique_ptr<PackedWeights> pack_legacy(const Tensor& w) {
  const int64_t nb = w.cols() / 32, tiles = w.rows() / 16;
  if (tiles == 0 || w.cols() % 32 != 0) return nullptr;
  auto packed = std::make_unique<PackedWeights>();
  packed->format = &kPackedTiles<T>;
  packed->rows = tiles * 16;
  packed->n_bytes = tiles * tile_bytes<T>(nb);
  packed->bytes.reset(static_cast<uint8_t*>(::operator new(static_cast<size_t>(packed->n_bytes), std::align_val_t{64})));
  const int64_t stride = w.row_stride_bytes();
  for (int64_t i = 0; i < tiles; ++i)
    repack_tile<T>(w.data + 16 * i * stride, stride, nb, tile_at<T>(packed->bytes.get() + i * tile_bytes<T>(nb), nb));
  return packed;
}

// Rows [row_begin, row_end) (whole tiles, within packed->rows) from the
// packed copy, two tiles at a time.
template <DType T>
DSEEK_TARGET_AVX512 void matmul_legacy_packed(const Tensor& w, const PackedWeights& packed, int64_t row_begin,
                                              int64_t row_end, const uint8_t* act, const ActLayout& layout,
                                              int64_t n_tokens, float* y, int64_t ldy) {
  const int64_t nb = w.cols() / 32;
  const int64_t n_tiles = packed.rows / 16;
  const uint8_t* panels = build_panels<T>(act, layout, n_tokens, nb);
  for (int64_t r0 = row_begin; r0 + 16 <= row_end;) {
    const int g = r0 + 32 <= row_end ? 2 : 1;
    Tile tiles[2];
    for (int i = 0; i < g; ++i) {
      const int64_t index = r0 / 16 + i;
      tiles[i] = tile_at<T>(packed.bytes.get() + index * tile_bytes<T>(nb), nb);
      if (index + g < n_tiles) tiles[i].next = packed.bytes.get() + (index + g) * tile_bytes<T>(nb);
    }
    tiles_all_tokens<T>(g, tiles, nb, r0, panels, n_tokens, y, ldy);
    r0 += 16 * g;
  }
}

// The paths give the same bits (canonical order), so the choice is only
// about speed: tiles pay off from a few tokens on, and sooner when they were
// rearranged once at load.
template <DType T, MatmulActFn Rows = matmul_legacy_rows<T>>
DSEEK_TARGET_AVX512 void matmul_legacy(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act,
                                       const ActLayout& layout, int64_t n_tokens, float* y, int64_t ldy) {
  constexpr int64_t kMinTokensForTiles = 6, kMinTokensForPacked = 2;
  if (w.packed && w.packed->format == &kPackedTiles<T> && n_tokens >= kMinTokensForPacked) {
    const int64_t begin = std::min(row_end, (row_begin + 15) / 16 * 16);
    const int64_t end = std::max(begin, std::min(row_end, w.packed->rows) / 16 * 16);
    if (begin > row_begin) Rows(w, row_begin, begin, act, layout, n_tokens, y, ldy);
    matmul_legacy_packed<T>(w, *w.packed, begin, end, act, layout, n_tokens, y, ldy);
    if (end < row_end) Rows(w, end, row_end, act, layout, n_tokens, y, ldy);
    return;
  }
  int64_t tiled_end = row_begin;
  if (n_tokens >= kMinTokensForTiles) {
    tiled_end = row_begin + (row_end - row_begin) / 16 * 16;
    matmul_legacy_tiles<T>(w, row_begin, tiled_end, act, layout, n_tokens, y, ldy);
  }
  if (tiled_end < row_end) Rows(w, tiled_end, row_end, act, layout, n_tokens, y, ldy);
}

// ---- 256-element super-blocks ----------------------------------------------

// A super-block unpacked: 4 x 64 unsigned bytes in natural order, the
// per-lane integer scales for each of them (a lane is 4 consecutive
// elements), and what the offset and min terms need.
struct KUnpacked {
  __m512i u[4];
  __m512i lane_scale[4];
  __m512i group_scale;  // per group (16 lanes for 16-element groups; 8 for 32)
  __m512i group_min;    // same layout; types with a min term
  float d, dmin;
};

// Lane scales from per-group scales: group size 32 covers 8 lanes, 16 covers 4.
DSEEK_TARGET_AVX512 inline void spread_scales(KUnpacked& k, int group) {
  for (int i = 0; i < 4; ++i) {
    __m512i idx;
    if (group == 32) idx = _mm512_setr_epi32(2 * i, 2 * i, 2 * i, 2 * i, 2 * i, 2 * i, 2 * i, 2 * i, 2 * i + 1, 2 * i + 1,
                                             2 * i + 1, 2 * i + 1, 2 * i + 1, 2 * i + 1, 2 * i + 1, 2 * i + 1);
    else idx = _mm512_setr_epi32(4 * i, 4 * i, 4 * i, 4 * i, 4 * i + 1, 4 * i + 1, 4 * i + 1, 4 * i + 1, 4 * i + 2,
                                 4 * i + 2, 4 * i + 2, 4 * i + 2, 4 * i + 3, 4 * i + 3, 4 * i + 3, 4 * i + 3);
    k.lane_scale[i] = _mm512_permutexvar_epi32(idx, k.group_scale);
  }
}

DSEEK_TARGET_AVX512 inline __m512i join(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

DSEEK_TARGET_AVX512 inline __m256i load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// The 8 six-bit scales and 8 six-bit mins of Q4_K / Q5_K, as 16 bytes
// (scales then mins).
DSEEK_TARGET_AVX512 inline __m128i q4k_scales_mins(const uint8_t* s) {
  uint32_t a[3];
  std::memcpy(a, s, 12);
  const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
  uint32_t out[4];
  out[0] = a[0] & m6;                                   // scales 0-3
  out[1] = (a[2] & m4) | (((a[0] >> 6) & m2) << 4);     // scales 4-7
  out[2] = a[1] & m6;                                   // mins 0-3
  out[3] = ((a[2] >> 4) & m4) | (((a[1] >> 6) & m2) << 4);  // mins 4-7
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(out));
}

template <DType T>
struct KQuant;

template <>
struct KQuant<DType::Q4_K> {
  static constexpr int kBytes = 144, kGroup = 32, kOffset = 0;
  static constexpr bool kMin = true;
  DSEEK_TARGET_AVX512 static void unpack(const uint8_t* b, KUnpacked& k) {
    const __m256i m = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {
      const __m256i q = load256(b + 16 + 32 * c);
      k.u[c] = join(_mm256_and_si256(q, m), _mm256_and_si256(_mm256_srli_epi16(q, 4), m));
    }
    const __m512i sm = _mm512_cvtepu8_epi32(q4k_scales_mins(b + 4));
    k.group_scale = sm;                                        // lanes 0-7
    k.group_min = _mm512_permutexvar_epi32(_mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0), sm);
    k.d = half_at(b);
    k.dmin = half_at(b + 2);
  }
};

template <>
struct KQuant<DType::Q5_K> {
  static constexpr int kBytes = 176, kGroup = 32, kOffset = 0;
  static constexpr bool kMin = true;
  DSEEK_TARGET_AVX512 static void unpack(const uint8_t* b, KUnpacked& k) {
    const __m256i m = _mm256_set1_epi8(0x0F);
    const __m512i qh = _mm512_broadcast_i64x4(load256(b + 16));
    for (int c = 0; c < 4; ++c) {
      const __m256i q = load256(b + 48 + 32 * c);
      const __m512i u = join(_mm256_and_si256(q, m), _mm256_and_si256(_mm256_srli_epi16(q, 4), m));
      // Sub-block 2c takes bit 2c of qh[l], sub-block 2c + 1 bit 2c + 1.
      const __m512i bits = join(_mm256_set1_epi8(static_cast<char>(1 << (2 * c))),
                                _mm256_set1_epi8(static_cast<char>(1 << (2 * c + 1))));
      k.u[c] = _mm512_mask_add_epi8(u, _mm512_test_epi8_mask(qh, bits), u, _mm512_set1_epi8(16));
    }
    const __m512i sm = _mm512_cvtepu8_epi32(q4k_scales_mins(b + 4));
    k.group_scale = sm;
    k.group_min = _mm512_permutexvar_epi32(_mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0), sm);
    k.d = half_at(b);
    k.dmin = half_at(b + 2);
  }
};

template <>
struct KQuant<DType::Q6_K> {
  static constexpr int kBytes = 210, kGroup = 16, kOffset = 32;
  static constexpr bool kMin = false;
  DSEEK_TARGET_AVX512 static void unpack(const uint8_t* b, KUnpacked& k) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    for (int n = 0; n < 2; ++n) {
      const __m512i ql = join(load256(b + 64 * n), load256(b + 64 * n + 32));
      const __m512i qh = _mm512_broadcast_i64x4(load256(b + 128 + 32 * n));
      // Elements 0-31 / 32-63 of the half: low nibbles of ql[0..32) / ql[32..64)
      // with qh bits 0-1 / 2-3; elements 64-127 the high nibbles with bits 4-5 / 6-7.
      const __m512i h01 = _mm512_and_si512(
          _mm512_sllv_epi16(qh, join(_mm256_set1_epi16(4), _mm256_set1_epi16(2))), m30);
      const __m512i h23 = _mm512_and_si512(
          _mm512_srlv_epi16(qh, join(_mm256_set1_epi16(0), _mm256_set1_epi16(2))), m30);
      k.u[2 * n] = _mm512_or_si512(_mm512_and_si512(ql, m4), h01);
      k.u[2 * n + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), h23);
    }
    k.group_scale = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 192)));
    k.d = half_at(b + 208);
    k.dmin = 0.0f;
  }
};

// Q2_K / Q3_K: two-bit values; element 128n + 32j + l is bits 2j..2j+1 of qs[32n + l].
DSEEK_TARGET_AVX512 inline void two_bit_values(const uint8_t* qs, __m512i u[4]) {
  const __m512i m3 = _mm512_set1_epi8(3);
  for (int n = 0; n < 2; ++n) {
    const __m512i q = _mm512_broadcast_i64x4(load256(qs + 32 * n));
    u[2 * n] = _mm512_and_si512(_mm512_srlv_epi16(q, join(_mm256_set1_epi16(0), _mm256_set1_epi16(2))), m3);
    u[2 * n + 1] = _mm512_and_si512(_mm512_srlv_epi16(q, join(_mm256_set1_epi16(4), _mm256_set1_epi16(6))), m3);
  }
}

template <>
struct KQuant<DType::Q2_K> {
  static constexpr int kBytes = 84, kGroup = 16, kOffset = 0;
  static constexpr bool kMin = true;
  DSEEK_TARGET_AVX512 static void unpack(const uint8_t* b, KUnpacked& k) {
    two_bit_values(b + 16, k.u);
    const __m512i s = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
    k.group_scale = _mm512_and_si512(s, _mm512_set1_epi32(0xF));
    k.group_min = _mm512_srli_epi32(s, 4);
    k.d = half_at(b + 80);
    k.dmin = half_at(b + 82);
  }
};

template <>
struct KQuant<DType::Q3_K> {
  static constexpr int kBytes = 110, kGroup = 16, kOffset = 4;
  static constexpr bool kMin = false;
  DSEEK_TARGET_AVX512 static void unpack(const uint8_t* b, KUnpacked& k) {
    two_bit_values(b + 32, k.u);
    // The third bit of element 128n + 32j + l is bit 4n + j of hmask[l]: adds 4.
    const __m512i hm = _mm512_broadcast_i64x4(load256(b));
    for (int i = 0; i < 4; ++i) {
      const int j0 = 2 * i;  // bits j0 (lower half) and j0 + 1 (upper half) of the hmask bytes
      const __m512i bits = join(_mm256_set1_epi8(static_cast<char>(1 << j0)), _mm256_set1_epi8(static_cast<char>(1 << (j0 + 1))));
      k.u[i] = _mm512_mask_add_epi8(k.u[i], _mm512_test_epi8_mask(hm, bits), k.u[i], _mm512_set1_epi8(4));
    }
    // 16 six-bit scales (+32): low nibbles in bytes 0-7, top two bits in bytes 8-11.
    uint32_t a[3];
    std::memcpy(a, b + 96, 12);
    const uint32_t m4 = 0x0f0f0f0f, m2 = 0x03030303;
    uint32_t s[4];
    s[0] = (a[0] & m4) | ((a[2] & m2) << 4);
    s[1] = (a[1] & m4) | (((a[2] >> 2) & m2) << 4);
    s[2] = ((a[0] >> 4) & m4) | (((a[2] >> 4) & m2) << 4);
    s[3] = ((a[1] >> 4) & m4) | (((a[2] >> 6) & m2) << 4);
    k.group_scale = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s))),
                                     _mm512_set1_epi32(32));
    k.d = half_at(b + 108);
    k.dmin = 0.0f;
  }
};

template <DType T>
DSEEK_TARGET_AVX512 void matmul_kquant(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act,
                                       const ActLayout& layout, int64_t n_tokens, float* y, int64_t ldy) {
  using K = KQuant<T>;
  const int64_t nsb = w.cols() / 256;
  const int64_t stride = w.row_stride_bytes();
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = w.data + r * stride;
    if (r + kRowsAhead < w.rows()) prefetch_bytes(row + kRowsAhead * stride, stride);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
      const int nt = static_cast<int>(std::min<int64_t>(kTokenTile, n_tokens - t0));
      alignas(64) float p[kTokenTile][16] = {};
      for (int64_t sb = 0; sb < nsb; ++sb) {
        KUnpacked k;
        K::unpack(row + sb * K::kBytes, k);
        spread_scales(k, K::kGroup);
        for (int t = 0; t < nt; ++t) {
          const ActView a{act + (t0 + t) * layout.bytes, &layout};
          const int8_t* xq = a.q() + sb * 256;
          __m512i acc = _mm512_setzero_si512();
          for (int i = 0; i < 4; ++i) {
            const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), k.u[i], _mm512_loadu_si512(xq + 64 * i));
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(dot, k.lane_scale[i]));
          }
          int32_t isum = hsum_epi32(acc);
          int32_t imin = 0;
          if constexpr (K::kGroup == 16) {
            const __m512i xs = _mm512_loadu_si512(a.sum16() + 16 * sb);
            if constexpr (K::kOffset != 0) isum -= K::kOffset * hsum_epi32(_mm512_mullo_epi32(k.group_scale, xs));
            if constexpr (K::kMin) imin = hsum_epi32(_mm512_mullo_epi32(k.group_min, xs));
          } else if constexpr (K::kMin) {
            const __m512i xs = _mm512_zextsi256_si512(load256(reinterpret_cast<const uint8_t*>(a.sum32() + 8 * sb)));
            imin = hsum_epi32(_mm512_mullo_epi32(k.group_min, xs));
          }
          const float dx = a.d()[sb];
          float& acc_f = p[t][sb % 16];
          acc_f = std::fma(static_cast<float>(isum), k.d * dx, acc_f);
          if constexpr (K::kMin) acc_f = std::fma(static_cast<float>(imin), -(k.dmin * dx), acc_f);
        }
      }
      for (int t = 0; t < nt; ++t) y[(t0 + t) * ldy + r] = kernels::tree16(p[t]);
    }
  }
}

}  // namespace

void fill_int8_matmul(KernelTable& table) {
  auto set = [&](DType t, MatmulActFn fn) {
    table.matmul_act[static_cast<int>(t)] = fn;
    table.act_format[static_cast<int>(t)] = int8_act_format(t);
  };
  set(DType::Q8_0, matmul_legacy<DType::Q8_0>);
  set(DType::Q4_0, matmul_legacy<DType::Q4_0>);
  set(DType::Q4_1, matmul_legacy<DType::Q4_1>);
  set(DType::Q5_0, matmul_legacy<DType::Q5_0>);
  set(DType::Q5_1, matmul_legacy<DType::Q5_1>);
  table.pack[static_cast<int>(DType::Q8_0)] = pack_legacy<DType::Q8_0>;
  table.pack[static_cast<int>(DType::Q4_0)] = pack_legacy<DType::Q4_0>;
  table.pack[static_cast<int>(DType::Q4_1)] = pack_legacy<DType::Q4_1>;
  table.pack[static_cast<int>(DType::Q5_0)] = pack_legacy<DType::Q5_0>;
  table.pack[static_cast<int>(DType::Q5_1)] = pack_legacy<DType::Q5_1>;
  set(DType::Q2_K, matmul_kquant<DType::Q2_K>);
  set(DType::Q3_K, matmul_kquant<DType::Q3_K>);
  set(DType::Q4_K, matmul_kquant<DType::Q4_K>);
  set(DType::Q5_K, matmul_kquant<DType::Q5_K>);
  set(DType::Q6_K, matmul_kquant<DType::Q6_K>);
}

// The table for CPUs that also have AVX512_VBMI: Q4_0's rows by byte permutes.
void fill_int8_matmul_vbmi(KernelTable& table) {
  table.matmul_act[static_cast<int>(DType::Q4_0)] = matmul_legacy<DType::Q4_0, q4_0_rows_vbmi>;
}

}  // namespace dseek::kernels::avx512
