#include "neuromod/random.hpp"

#include <cmath>
#include <numbers>

#include "util/hash.hpp"

namespace locus::neuromod {

std::uint64_t mix64(std::uint64_t value) {
  return util::splitmix64(value);
}

namespace {

std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

// GCC's 128-bit integer (the __extension__ keeps -Wpedantic quiet about it).
__extension__ typedef unsigned __int128 Uint128;

}  // namespace

RandomStream::RandomStream(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  // Chain the ids through the mixer so that (seed, a, b, c) and any permutation differ.
  std::uint64_t key = mix64(seed);
  key = mix64(key ^ mix64(a + 0x51ed2701ULL));
  key = mix64(key ^ mix64(b + 0xa54ff53aULL));
  key = mix64(key ^ mix64(c + 0x3c6ef372ULL));
  for (auto& word : state_) {
    key += util::kSplitMix64Gamma;
    word = mix64(key);
  }
}

std::uint64_t RandomStream::next_u64() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double RandomStream::uniform() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

double RandomStream::normal() {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    return cached_normal_;
  }
  // 1 - uniform() is in (0, 1], so the logarithm is finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
  const double angle = 2.0 * std::numbers::pi * uniform();
  cached_normal_ = radius * std::sin(angle);
  has_cached_normal_ = true;
  return radius * std::cos(angle);
}

std::uint64_t RandomStream::uniform_index(std::uint64_t n) {
  // Lemire, "Fast random integer generation in an interval" (2019).
  Uint128 product = static_cast<Uint128>(next_u64()) * n;
  auto low = static_cast<std::uint64_t>(product);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      product = static_cast<Uint128>(next_u64()) * n;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

}  // namespace locus::neuromod
