// Scalar conversions of the storage formats that weights arrive in: bfloat16,
// IEEE half, and FP8 e4m3fn (DeepSeek-V3's weight format). These are the
// reference definitions; SIMD kernels must agree with them bit for bit.
//
// Functions are `static inline` on purpose: kernel files compiled for other
// instruction sets include this header, and internal linkage keeps the linker
// from picking one of their copies for generic code.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

namespace dseek {

static inline float bits_to_f32(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

static inline uint32_t f32_to_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

static inline float bf16_to_f32(uint16_t h) { return bits_to_f32(static_cast<uint32_t>(h) << 16); }

// Round to nearest even; NaN stays NaN.
static inline uint16_t f32_to_bf16(float f) {
  uint32_t bits = f32_to_bits(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

static inline float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    if (mantissa == 0) return bits_to_f32(sign);
    // Subnormal: value = mantissa * 2^-24.
    float value = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    return sign ? -value : value;
  }
  if (exponent == 31) return bits_to_f32(sign | 0x7f800000u | (mantissa << 13));
  return bits_to_f32(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// Round to nearest even, overflow to infinity (IEEE semantics).
static inline uint16_t f32_to_f16(float f) {
  uint32_t bits = f32_to_bits(f);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520
  if (abs < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    // value * 2^24 rounded to an integer (nearest even) is the subnormal mantissa.
    float scaled = bits_to_f32(abs) * 16777216.0f;
    uint32_t m = static_cast<uint32_t>(scaled);
    float rest = scaled - static_cast<float>(m);
    if (rest > 0.5f || (rest == 0.5f && (m & 1u))) ++m;
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t rounding = 0xfffu + ((abs >> 13) & 1u);
  abs += rounding;
  return static_cast<uint16_t>(sign | (((abs >> 23) - 112u) << 10) | ((abs >> 13) & 0x3ffu));
}

namespace detail {
// e4m3fn: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities;
// S.1111.111 is NaN; the largest finite value is 448.
constexpr float fp8_e4m3_value(unsigned code) {
  unsigned exponent = (code >> 3) & 0xfu;
  unsigned mantissa = code & 0x7u;
  float magnitude = 0.0f;
  if (exponent == 0xf && mantissa == 0x7) {
    magnitude = __builtin_nanf("");
  } else if (exponent == 0) {
    magnitude = static_cast<float>(mantissa) / 8.0f / 64.0f;  // subnormal: m/8 * 2^-6
  } else {
    magnitude = 1.0f + static_cast<float>(mantissa) / 8.0f;
    for (unsigned e = exponent; e > 7; --e) magnitude *= 2.0f;
    for (unsigned e = exponent; e < 7; ++e) magnitude /= 2.0f;
  }
  return (code & 0x80u) ? -magnitude : magnitude;
}

constexpr std::array<float, 256> make_fp8_e4m3_table() {
  std::array<float, 256> table{};
  for (unsigned code = 0; code < 256; ++code) table[code] = fp8_e4m3_value(code);
  return table;
}
}  // namespace detail

inline constexpr std::array<float, 256> kFp8E4m3ToF32 = detail::make_fp8_e4m3_table();

static inline float fp8_e4m3_to_f32(uint8_t code) { return kFp8E4m3ToF32[code]; }

}  // namespace dseek
