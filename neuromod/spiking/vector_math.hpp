#pragma once
// Branch-free helpers for the per-neuron loops, written so that GCC vectorizes the loops that call
// them (libm's exp is an opaque call that stops vectorization). Every neuron goes through the same
// arithmetic whatever the SIMD width, so results do not depend on how neurons are chunked.

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

namespace locus::neuromod::spiking {

// exp(x) within about 1 ulp of libm for x in [-700, 700] (inputs outside are clamped there):
// x = k ln2 + r with |r| <= ln2 / 2, exp(r) by its Taylor polynomial of degree 13 (remainder below
// 4e-18 relative), 2^k added to the exponent bits.
inline double exp_vectorizable(double x) {
  x = std::min(std::max(x, -700.0), 700.0);
  constexpr double kLog2e = 1.4426950408889634074;
  constexpr double kRoundShift = 0x1.8p52;  // adding it rounds to an integer in the low bits
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // fdlibm's split of ln 2: k * kLn2Hi
  constexpr double kLn2Lo = 1.90821492927058770002e-10;  // is exact for |k| < 2^11
  const double shifted = x * kLog2e + kRoundShift;
  const double k = shifted - kRoundShift;
  const std::uint64_t k_bits =
      std::bit_cast<std::uint64_t>(shifted) - std::bit_cast<std::uint64_t>(kRoundShift);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return std::bit_cast<double>(std::bit_cast<std::uint64_t>(p) + (k_bits << 52));
}

// Poisson(mean) by inversion through a table of the cumulative distribution: the count is the
// number of entries at or below a uniform u in [0, 1). The table is built with the same sums as
// NeuronRng::poisson, so both give the same count for the same u; it is used when the
// distribution's mass is exhausted (the cumulative sum reaches 1.0 in double precision) within
// kSize entries, which holds for means up to about 3 (30 kHz of input at dt = 0.1 ms).
struct PoissonTable {
  static constexpr int kSize = 32;
  double mean = -1.0;
  bool exact = false;  // false: the mean is too large for the table; use NeuronRng::poisson
  int used = kSize;    // 16 or 32: entries that hold the whole distribution (when exact)
  double exp_minus_mean = 1.0;
  std::array<double, kSize> cdf{};

  void build(double new_mean) {
    mean = new_mean;
    exp_minus_mean = std::exp(-mean);
    double probability = exp_minus_mean;
    double cumulative = probability;
    exact = false;
    for (int j = 0; j < kSize; ++j) {
      cdf[static_cast<std::size_t>(j)] = cumulative;
      if (cumulative >= 1.0) {
        // u < 1 is never at or above this entry nor the ones after it.
        for (int rest = j; rest < kSize; ++rest) cdf[static_cast<std::size_t>(rest)] = 1.0;
        exact = true;
        used = j < 16 ? 16 : kSize;
        break;
      }
      probability *= mean / static_cast<double>(j + 1);
      cumulative += probability;
    }
  }

  double count(double u) const {
    double n = 0.0;
    for (int j = 0; j < kSize; ++j) n += u >= cdf[static_cast<std::size_t>(j)] ? 1.0 : 0.0;
    return n;
  }
};

}  // namespace locus::neuromod::spiking
