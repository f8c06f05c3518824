#pragma once
// The small hashes the project shares: FNV-1a-64 checksums and digests, and SplitMix64 (Steele, Lea
// & Flood 2014, "Fast splittable pseudorandom number generators") for deriving seeds and generator
// states. One copy of each, so that every checkpoint and seed derivation agrees.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace locus::util {

inline constexpr std::uint64_t kFnv1a64Offset = 0xcbf29ce484222325ull;

// FNV-1a, 64 bits, continued from `hash` (the offset basis for a fresh hash): a checksum that
// catches a corrupt or truncated file (not an adversary), and a digest of parameters.
inline std::uint64_t fnv1a64(const void* data, std::size_t bytes,
                             std::uint64_t hash = kFnv1a64Offset) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

inline std::uint64_t fnv1a64(std::string_view bytes) {
  return fnv1a64(bytes.data(), bytes.size());
}

// SplitMix64's output function: a bijective 64-bit mix.
constexpr std::uint64_t splitmix64_finalize(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline constexpr std::uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ull;

// Advances a SplitMix64 generator's `state` and returns its next output.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  state += kSplitMix64Gamma;
  return splitmix64_finalize(state);
}

// An independent seed for stream `b` of a run seeded `a`, below 2^63 so that it fits the JSON
// integers env seeds are written as.
constexpr std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
  return splitmix64_finalize(a + kSplitMix64Gamma * (b + 1)) >> 1;
}

}  // namespace locus::util
