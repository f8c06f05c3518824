#pragma once
// ObservationEncoder: turns an env's packed observations into the network's input rows. A float
// Box is copied (float64 rounded to float32), a Discrete one-hot encoded; with frame_stack k the
// row holds the last k observations, oldest first, zeros before an episode's first.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "envs/space.hpp"

namespace locus::agents {

class ObservationEncoder {
 public:
  // Throws ConfigError naming the env when the space is neither a float Box nor a Discrete.
  ObservationEncoder(const envs::Space& space, std::size_t frame_stack, std::string_view env_id);

  std::size_t observation_dim() const { return observation_dim_; }
  std::size_t input_dim() const { return observation_dim_ * frame_stack_; }

  // Row `env` of `rows` (envs x input_dim) gets the observation as its newest frame, the older
  // frames shifted (or zeroed when the observation begins an episode).
  void push(std::span<float> rows, std::size_t env, std::span<const std::byte> packed,
            bool episode_start) const;
  // The input row env `env` would see next with `packed` as its newest frame, into `out`
  // (input_dim floats), `rows` unchanged: a truncated episode's final observation.
  void next_row(std::span<const float> rows, std::size_t env, std::span<const std::byte> packed,
                std::span<float> out) const;

 private:
  void decode(std::span<const std::byte> packed, float* out) const;

  // How a packed observation reads: float32 or float64 values, or a Discrete index.
  enum class Kind { kFloat32, kFloat64, kIndex };
  Kind kind_ = Kind::kFloat32;
  std::int64_t first_index_ = 0;  // a Discrete space's start
  std::size_t observation_dim_ = 0, frame_stack_ = 1;
};

}  // namespace locus::agents
