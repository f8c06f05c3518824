#pragma once
// TimeLimit: truncates an episode once it has lasted max_episode_steps (Gymnasium's TimeLimit).

#include <cstdint>

#include "envs/wrapper.hpp"

namespace locus::envs {

class TimeLimit final : public Wrapper {
 public:
  // Throws InvalidArgumentError unless max_episode_steps > 0.
  TimeLimit(std::unique_ptr<Env> env, std::int64_t max_episode_steps);
  std::string name() const override { return "TimeLimit"; }
  std::int64_t max_episode_steps() const { return max_episode_steps_; }
  // Steps since the last reset.
  std::int64_t elapsed_steps() const { return elapsed_steps_; }

 protected:
  bool saves_own_state() const override { return true; }
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  std::int64_t max_episode_steps_;
  std::int64_t elapsed_steps_ = 0;
};

}  // namespace locus::envs
