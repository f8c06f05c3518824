#include "envs/wrappers/time_limit.hpp"

#include "envs/registry.hpp"

namespace locus::envs {

TimeLimit::TimeLimit(std::unique_ptr<Env> env, std::int64_t max_episode_steps)
    : Wrapper(std::move(env)), max_episode_steps_(max_episode_steps) {
  if (max_episode_steps <= 0) {
    throw InvalidArgumentError("TimeLimit: max_episode_steps must be positive, got " +
                               std::to_string(max_episode_steps));
  }
  // Gymnasium's TimeLimit.spec reports the limit this wrapper applies; copy only when it differs
  // so that make()'s stack shares one spec.
  if (spec() != nullptr && spec()->max_episode_steps != max_episode_steps) {
    auto limited = std::make_shared<EnvSpec>(*spec());
    limited->max_episode_steps = max_episode_steps;
    set_spec(std::move(limited));
  }
}

void TimeLimit::reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                           std::span<std::byte> observation, Info& info) {
  elapsed_steps_ = 0;
  Wrapper::reset_impl(seed, options, observation, info);
}

StepOutcome TimeLimit::step_impl(std::span<const std::byte> action,
                                 std::span<std::byte> observation, Info& info) {
  StepOutcome outcome = Wrapper::step_impl(action, observation, info);
  ++elapsed_steps_;
  // Independent of `terminated`: an MDP terminal state on the last allowed step reports both.
  if (elapsed_steps_ >= max_episode_steps_) outcome.truncated = true;
  return outcome;
}

}  // namespace locus::envs
