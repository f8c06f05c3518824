#pragma once
// exp, sigmoid and tanh in float for the recurrent cells, in plain arithmetic that the compiler
// vectorizes. libm's calls do not vectorize, and glibc's tanhf (through expm1f) costs about 30 ns:
// in a GRU or LSTM they took more time than the cells' products.
//
// Accurate to a few ulp (tests/neuromod/test_vector_math.cpp bounds them against std::). They use
// only +, -, *, / and comparisons, rounded as written (this library is built with
// -ffp-contract=off), so scalar and vector code on every instruction set give the same bits.

#include <bit>
#include <cstdint>

namespace locus::neuromod::vector_math {

// c ? a : b by masking bits: GCC turns a float ?: into a branch that stops AVX2 vectorization.
inline float select(bool c, float a, float b) {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(c);
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(a) & mask) |
                              (std::bit_cast<std::uint32_t>(b) & ~mask));
}

// e^v (Cephes's expf: v = n ln2 + r, |r| <= ln2 / 2, a degree-6 polynomial in r, times 2^n), for v
// clamped to [-87, 88] where 2^n is a normal float: e^-87 (1.6e-38) and e^88 (1.7e38) beyond it.
inline float exp(float v) {
  v = select(v < -87.0f, -87.0f, select(v > 88.0f, 88.0f, v));
  // Round v / ln2 to the nearest integer by adding 1.5 * 2^23 (no call to a rounding function).
  constexpr float kRound = 12582912.0f;
  const float shifted = v * 1.44269504088896341f + kRound;
  const float n = shifted - kRound;
  float r = v - n * 0.693359375f;  // ln2 in two parts, so n * ln2 is exact to float precision
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e_r = p * (r * r) + r + 1.0f;
  // 2^n from n's bits: shifted's low mantissa bits hold n + 2^22 + 2^23.
  const std::int32_t n_int = std::bit_cast<std::int32_t>(shifted) - 0x4B400000;
  return e_r * std::bit_cast<float>((n_int + 127) << 23);
}

inline float sigmoid(float v) {
  return 1.0f / (1.0f + vector_math::exp(-v));
}

// tanh: Cephes's tanhf polynomial below |v| = 0.625 (where 1 - 2 / (e^2|v| + 1) would cancel),
// that formula above it. Both are computed and one selected, so the loop has no branch.
inline float tanh(float v) {
  const float a = std::bit_cast<float>(std::bit_cast<std::uint32_t>(v) & 0x7FFFFFFFu);
  const float large = 1.0f - 2.0f / (vector_math::exp(2.0f * a) + 1.0f);
  const float z = v * v;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = v + v * z * p;
  const std::uint32_t sign = std::bit_cast<std::uint32_t>(v) & 0x80000000u;
  return select(a < 0.625f, small,
                std::bit_cast<float>(std::bit_cast<std::uint32_t>(large) | sign));
}

}  // namespace locus::neuromod::vector_math
