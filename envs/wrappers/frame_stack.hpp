#pragma once
// FrameStackObservation: the observation is the last stack_size observations, oldest first
// (Gymnasium 1.x's FrameStackObservation).
//
// The observation space is Gymnasium's batch_space(space, stack_size): a Box gains a leading
// stack dimension with its bounds repeated; a Discrete becomes a MultiDiscrete, a MultiDiscrete an
// int64 Box and a MultiBinary an int8 Box. Composite spaces (Tuple, Dict) are not supported.
//
// After reset the older slots hold the padding: the reset observation itself ("reset"), the
// space's zero element ("zero": 0 clipped into the bounds, as Gymnasium's create_zero_array), or a
// given observation. step() allocates nothing: the inner env writes into a ring of frames, which
// is copied out oldest first.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envs/wrapper.hpp"

namespace locus::envs {

class FrameStackObservation final : public Wrapper {
 public:
  // padding_type "reset" or "zero". Throws InvalidArgumentError for stack_size < 1, another
  // padding_type, or an unsupported observation space.
  FrameStackObservation(std::unique_ptr<Env> env, std::int64_t stack_size,
                        std::string_view padding_type = "reset");
  // Pads with `padding_value`, which must be in the env's observation space.
  FrameStackObservation(std::unique_ptr<Env> env, std::int64_t stack_size,
                        const Value& padding_value);
  std::string name() const override { return "FrameStackObservation"; }
  std::int64_t stack_size() const { return stack_size_; }
  // "reset", "zero" or "_custom" (Gymnasium's name for a given padding observation).
  const std::string& padding_type() const { return padding_type_; }

 protected:
  bool saves_own_state() const override { return true; }
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  struct Common {};  // tags the constructor that both public ones delegate to
  FrameStackObservation(Common, std::unique_ptr<Env> env, std::int64_t stack_size);
  std::span<std::byte> slot(std::size_t i) {
    return {frames_.data() + i * frame_bytes_, frame_bytes_};
  }
  void copy_out(std::span<std::byte> observation) const;

  std::int64_t stack_size_;
  std::string padding_type_;
  std::size_t frame_bytes_;
  std::vector<std::byte> frames_;   // (stack_size, frame_bytes) ring
  std::vector<std::byte> padding_;  // one frame, for "zero" and custom padding
  std::size_t oldest_ = 0;          // the ring slot holding the oldest frame
};

}  // namespace locus::envs
