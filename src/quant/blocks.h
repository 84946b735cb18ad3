// Byte layouts of the block types (ggml-common.h), as offsets into a block,
// and the small helpers every format shares. Blocks are read and written
// through these offsets, never by casting file bytes to structs: GGUF data
// is only as aligned as its file says.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "util/numeric_formats.h"

namespace dseek::quant {

// Q8_0: f16 d, int8 qs[32]; x = d * q.
struct Q8_0Layout {
  static constexpr int kBytes = 34, kD = 0, kQs = 2;
};
// Q4_0: f16 d, qs[16] (element j in the low nibble of byte j, element j+16 in the high one); x = d * (q - 8).
struct Q4_0Layout {
  static constexpr int kBytes = 18, kD = 0, kQs = 2;
};
// Q4_1: f16 d, f16 m, qs[16]; x = d * q + m.
struct Q4_1Layout {
  static constexpr int kBytes = 20, kD = 0, kM = 2, kQs = 4;
};
// Q5_0: f16 d, u32 qh (fifth bits), qs[16]; x = d * (q - 16).
struct Q5_0Layout {
  static constexpr int kBytes = 22, kD = 0, kQh = 2, kQs = 6;
};
// Q5_1: f16 d, f16 m, u32 qh, qs[16]; x = d * q + m.
struct Q5_1Layout {
  static constexpr int kBytes = 24, kD = 0, kM = 2, kQh = 4, kQs = 8;
};
// Q2_K: scales[16] (low nibble scale, high nibble min of each 16), qs[64], f16 d, f16 dmin.
struct Q2_KLayout {
  static constexpr int kBytes = 84, kScales = 0, kQs = 16, kD = 80, kDmin = 82;
};
// Q3_K: hmask[32], qs[64], scales[12] (16 six-bit scales), f16 d.
struct Q3_KLayout {
  static constexpr int kBytes = 110, kHmask = 0, kQs = 32, kScales = 96, kD = 108;
};
// Q4_K: f16 d, f16 dmin, scales[12] (8 six-bit scales + 8 six-bit mins), qs[128].
struct Q4_KLayout {
  static constexpr int kBytes = 144, kD = 0, kDmin = 2, kScales = 4, kQs = 16;
};
// Q5_K: f16 d, f16 dmin, scales[12], qh[32], qs[128].
struct Q5_KLayout {
  static constexpr int kBytes = 176, kD = 0, kDmin = 2, kScales = 4, kQh = 16, kQs = 48;
};
// Q6_K: ql[128], qh[64], int8 scales[16], f16 d.
struct Q6_KLayout {
  static constexpr int kBytes = 210, kQl = 0, kQh = 128, kScales = 192, kD = 208;
};

static inline float load_half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

static inline void store_half(uint8_t* p, float f) {
  const uint16_t h = f32_to_f16(f);
  std::memcpy(p, &h, 2);
}

// Round to nearest, ties to even, for |f| < 2^22: adding 1.5 * 2^23 leaves
// the integer in the low mantissa bits. llama.cpp's k-quant code rounds this
// way (not with roundf), so the reference quantizers must too.
static inline int nearest_int(float f) {
  const float biased = f + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &biased, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

// The 6-bit scale and min of sub-block j in the 12-byte packing of Q4_K/Q5_K:
// bytes 0-3 hold scales 0-3 (low 6 bits), bytes 4-7 mins 0-3; sub-blocks 4-7
// keep their low 4 bits in bytes 8-11 and their top 2 bits in the spare high
// bits of bytes 0-7.
static inline void unpack_scale_min_k4(int j, const uint8_t* q, uint8_t& scale, uint8_t& min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace dseek::quant
