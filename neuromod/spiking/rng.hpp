#pragma once
// Per-neuron random numbers. Every neuron (and every presynaptic row while the wiring is drawn)
// owns a generator seeded from (circuit seed, stream, index) alone, and draws from it in its own
// fixed order, so results do not depend on how neurons are split across threads.

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/hash.hpp"

namespace locus::neuromod::spiking {

// SplitMix64 hashes seeds into generator states.
using util::splitmix64;

// One well-mixed 64-bit key from a seed, a stream id and an index.
constexpr std::uint64_t hash_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  std::uint64_t state = seed;
  std::uint64_t key = splitmix64(state);
  state = key ^ (stream * 0xd1b54a32d192ed03ULL);
  key = splitmix64(state);
  state = key ^ (index * 0x8cb92ba72f3d8dd7ULL);
  return splitmix64(state);
}

// xoshiro256+ (Blackman & Vigna 2018): the top 53 bits make uniform doubles. 32 bytes of state.
class NeuronRng {
 public:
  NeuronRng() = default;
  NeuronRng(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
    std::uint64_t state = hash_seed(seed, stream, index);
    for (auto& word : s_) word = splitmix64(state);
  }

  std::uint64_t next() {
    const std::uint64_t result = s_[0] + s_[3];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = (s_[3] << 45) | (s_[3] >> 19);
    return result;
  }

  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Poisson(mean) by inversion with one uniform; exp_minus_mean = exp(-mean) is passed in
  // because the circuit computes it once per population and step. Exact for any mean whose
  // exp(-mean) is a normal double; the circuit keeps means far below that (rates x dt).
  std::int64_t poisson(double mean, double exp_minus_mean);

 private:
  std::uint64_t s_[4] = {1, 2, 3, 4};
};

// The circuit's per-neuron generators as structure of arrays (xoshiro256+, seeded exactly like
// NeuronRng), so that the loop over neurons draws for many neurons at once in SIMD registers.
class RngBank {
 public:
  RngBank() = default;
  RngBank(std::uint64_t seed, std::uint64_t stream, std::size_t count)
      : s0_(count), s1_(count), s2_(count), s3_(count) {
    for (std::size_t i = 0; i < count; ++i) {
      std::uint64_t state = hash_seed(seed, stream, i);
      s0_[i] = splitmix64(state);
      s1_[i] = splitmix64(state);
      s2_[i] = splitmix64(state);
      s3_[i] = splitmix64(state);
    }
  }

  // Uniform in [0, 1) with 52 random bits, for generator i. Built from the bits directly (1.x
  // minus 1) because a vectorized uint64 -> double conversion needs AVX-512.
  [[gnu::always_inline]] double uniform(std::size_t i) {
    std::uint64_t* __restrict s0 = s0_.data();
    std::uint64_t* __restrict s1 = s1_.data();
    std::uint64_t* __restrict s2 = s2_.data();
    std::uint64_t* __restrict s3 = s3_.data();
    const std::uint64_t result = s0[i] + s3[i];
    const std::uint64_t t = s1[i] << 17;
    s2[i] ^= s0[i];
    s3[i] ^= s1[i];
    s1[i] ^= s2[i];
    s0[i] ^= s3[i];
    s2[i] ^= t;
    s3[i] = (s3[i] << 45) | (s3[i] >> 19);
    return std::bit_cast<double>((result >> 12) | 0x3ff0000000000000ULL) - 1.0;
  }

 private:
  std::vector<std::uint64_t> s0_, s1_, s2_, s3_;
};

// Poisson(mean) by inversion from a given uniform u (the loop of NeuronRng::poisson).
// The cap ends the loop if rounding leaves the cumulative sum just below u.
inline std::int64_t poisson_from_uniform(double u, double mean, double exp_minus_mean) {
  double probability = exp_minus_mean;
  double cumulative = probability;
  std::int64_t count = 0;
  while (u >= cumulative && count < 100000) {
    ++count;
    probability *= mean / static_cast<double>(count);
    cumulative += probability;
    if (probability == 0.0) break;
  }
  return count;
}

inline std::int64_t NeuronRng::poisson(double mean, double exp_minus_mean) {
  return poisson_from_uniform(uniform(), mean, exp_minus_mean);
}

}  // namespace locus::neuromod::spiking
