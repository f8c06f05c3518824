#include "envs/wrappers/check_and_rollout.hpp"

#include <fmt/format.h>

#include <chrono>
#include <vector>

#include "envs/registry.hpp"
#include "envs/wrappers/env_checker.hpp"

namespace locus::envs {

void run_check(const std::string& id, const Kwargs& kwargs, std::uint64_t seed, int steps,
               const ReportLine& line) {
  auto env = make(id, kwargs);
  // Gymnasium's advice: check the raw env, since make()'s wrappers (the passive checker among
  // them) would mask or repeat what the checker looks for. The wrapped env stays alive as its
  // owner.
  const auto result = check_env(env->unwrapped(), {.seed = seed, .steps = steps});
  for (const auto& passed : result.passed) line(fmt::format("  ok    {}", passed));
  for (const auto& warning : result.warnings) line(fmt::format("  warn  {}", warning));
  line(fmt::format("{}: all checks passed ({} warnings)", id, result.warnings.size()));
}

void run_rollout(const std::string& id, const Kwargs& kwargs, int episodes, std::uint64_t seed,
                 bool render, const ReportLine& line) {
  auto env = make(id, kwargs);
  Space& actions = env->action_space();
  actions.seed(seed);
  std::vector<std::byte> observation(env->observation_space().packed_bytes());
  std::vector<std::byte> action(actions.packed_bytes());
  Info info;
  std::int64_t total_steps = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int episode = 0; episode < episodes; ++episode) {
    if (episode == 0) {
      env->reset(observation, info, seed);
    } else {
      env->reset(observation, info);
    }
    double episode_return = 0.0;
    std::int64_t length = 0;
    bool done = false;
    while (!done) {
      actions.sample_packed(action);
      const auto outcome = env->step(action, observation, info);
      episode_return += outcome.reward;
      ++length;
      done = outcome.terminated || outcome.truncated;
      if (render) line(env->render());
    }
    total_steps += length;
    line(fmt::format("episode {:>3}: return {:>8.2f}  length {:>5}", episode + 1, episode_return,
                     length));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  line(fmt::format("{}: {} steps in {:.4f} s, {:.0f} steps/s (single env, random policy)", id,
                   total_steps, seconds, double(total_steps) / seconds));
}

}  // namespace locus::envs
