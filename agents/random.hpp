#pragma once
// The agent's own random stream: action sampling and PPO's minibatch shuffles draw from it, so a
// run depends only on its seed. Uniforms and normals are computed here, not by <random>'s
// distributions, whose results differ between standard libraries.

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace locus::agents {

class AgentRandom {
 public:
  explicit AgentRandom(std::uint64_t seed) : engine_(seed) {}

  // In [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Standard normal by Box-Muller.
  double normal() {
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  // An index below n, uniformly.
  std::size_t below(std::size_t n) {
    const auto k = static_cast<std::size_t>(uniform() * double(n));
    return k < n ? k : n - 1;
  }

  std::mt19937_64& engine() { return engine_; }
  const std::mt19937_64& engine() const { return engine_; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace locus::agents
