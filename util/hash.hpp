#pragma once
// Small hashes the project shares: FNV-1a-64 checksums of files and a splitmix64 seed mixer.

#include <cstdint>
#include <string_view>

namespace locus::util {

// FNV-1a, 64 bits: a checksum that catches a corrupt or truncated file (not an adversary).
inline std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

// An independent seed for stream `b` of a run seeded `a` (splitmix64's finalizer), below 2^63 so
// that it fits the JSON integers env seeds are written as.
inline std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9e3779b97f4a7c15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (z ^ (z >> 31)) >> 1;
}

}  // namespace locus::util
