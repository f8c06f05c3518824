#include "envs/wrappers/time_limit.hpp"

namespace locus::envs {

TimeLimit::TimeLimit(std::unique_ptr<Env> env, std::int64_t max_episode_steps)
    : Wrapper(std::move(env)), max_episode_steps_(max_episode_steps) {
  if (max_episode_steps <= 0) {
    throw InvalidArgumentError("TimeLimit: max_episode_steps must be positive, got " +
                               std::to_string(max_episode_steps));
  }
}

void TimeLimit::reset_impl(std::optional<std::uint64_t> seed, const Kwargs& options,
                           std::span<std::byte> observation, Info& info) {
  elapsed_steps_ = 0;
  Wrapper::reset_impl(seed, options, observation, info);
}

StepOutcome TimeLimit::step_impl(std::span<const std::byte> action,
                                 std::span<std::byte> observation, Info& info) {
  StepOutcome outcome = Wrapper::step_impl(action, observation, info);
  ++elapsed_steps_;
  // Reported independently of `terminated`: both can be true on the same step.
  if (elapsed_steps_ >= max_episode_steps_) outcome.truncated = true;
  return outcome;
}

}  // namespace locus::envs
