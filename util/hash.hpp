#pragma once
// The small hashes the project shares: FNV-1a-64 checksums and digests, SplitMix64 (Steele, Lea
// & Flood 2014, "Fast splittable pseudorandom number generators") for deriving seeds and generator
// states, and CRC-32C, the checksum of TensorBoard's record files. One copy of each, so that every
// checkpoint and seed derivation agrees.

#include <array>
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

namespace detail {
// CRC-32C (Castagnoli) in its reflected form, polynomial 0x82F63B78 (RFC 3720, section 12.1).
constexpr std::array<std::uint32_t, 256> crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
    table[i] = crc;
  }
  return table;
}
inline constexpr std::array<std::uint32_t, 256> kCrc32cTable = crc32c_table();
}  // namespace detail

// CRC-32C of `bytes` ("123456789" gives 0xE3069283). Byte at a time: the event files it checks
// are written a few hundred bytes per training update.
constexpr std::uint32_t crc32c(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const char c : bytes) {
    crc = detail::kCrc32cTable[(crc ^ static_cast<unsigned char>(c)) & 0xFFu] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace locus::util
