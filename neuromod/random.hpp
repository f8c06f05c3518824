#pragma once
// Deterministic random streams for the fixed random weights and the context initializations.
//
// A network's fixed weights are never stored: they are regenerated from the network seed, so a
// checkpoint holds only the seed and the learned contexts. That requires a generator whose output
// is fixed by this source file alone (std::normal_distribution is implementation-defined), and
// streams that can be addressed independently (layer 3, row 17) so rows can be generated in
// parallel with the same result for any thread count. RandomStream is xoshiro256** seeded through
// SplitMix64 from the seed and up to three stream ids; normals come from the Box-Muller transform
// in double.

#include <cstdint>

namespace locus::neuromod {

class RandomStream {
 public:
  // The stream for (seed, a, b, c); any difference in the four values gives an unrelated sequence.
  explicit RandomStream(std::uint64_t seed, std::uint64_t a = 0, std::uint64_t b = 0,
                        std::uint64_t c = 0);

  std::uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal();
  // Uniform integer in [0, n), without modulo bias (Lemire's method). n must be positive.
  std::uint64_t uniform_index(std::uint64_t n);

 private:
  std::uint64_t state_[4];
  double cached_normal_ = 0.0;
  bool has_cached_normal_ = false;
};

// SplitMix64's finalizer: a bijective 64-bit mix, used to derive stream keys and digests.
std::uint64_t mix64(std::uint64_t value);

}  // namespace locus::neuromod
