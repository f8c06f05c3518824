#include "envs/wrappers/env_checker.hpp"

#include <cmath>
#include <cstring>

namespace locus::envs {

namespace {

// NaN or infinity anywhere in a packed float observation (only float Boxes can hold them).
bool has_non_finite(const Space& space, std::span<const std::byte> packed) {
  const auto* box = dynamic_cast<const Box*>(&space);
  if (box == nullptr) return false;
  if (box->dtype() == DType::kFloat32) {
    for (float v : as_span<float>(packed)) {
      if (!std::isfinite(v)) return true;
    }
  } else if (box->dtype() == DType::kFloat64) {
    for (double v : as_span<double>(packed)) {
      if (!std::isfinite(v)) return true;
    }
  }
  return false;
}

[[noreturn]] void fail(const std::string& check, const std::string& why) {
  throw CheckError("check failed: " + check + ": " + why);
}

std::string describe(const Space& space, std::span<const std::byte> packed) {
  try {
    return space.unpack(packed).to_string();
  } catch (const std::exception&) {
    return "(unreadable)";
  }
}

}  // namespace

PassiveEnvChecker::PassiveEnvChecker(std::unique_ptr<Env> env) : Wrapper(std::move(env)) {
  if (observation_space_ptr() == nullptr || action_space_ptr() == nullptr) {
    throw CheckError(env_->name() +
                     " has no observation or action space; set both in its constructor");
  }
}

void PassiveEnvChecker::reset_impl(std::optional<std::uint64_t> seed, const Kwargs& options,
                                   std::span<std::byte> observation, Info& info) {
  Wrapper::reset_impl(seed, options, observation, info);
  if (checked_reset_) return;
  checked_reset_ = true;
  if (!observation_space().contains_packed(observation)) {
    warn(env_->name() + ": the observation returned by reset() " +
         describe(observation_space(), observation) + " is not within the observation space " +
         observation_space().to_string());
  }
  if (has_non_finite(observation_space(), observation)) {
    warn(env_->name() + ": the observation returned by reset() contains NaN or infinity");
  }
}

StepOutcome PassiveEnvChecker::step_impl(std::span<const std::byte> action,
                                         std::span<std::byte> observation, Info& info) {
  const StepOutcome outcome = Wrapper::step_impl(action, observation, info);
  if (checked_step_) return outcome;
  checked_step_ = true;
  if (!observation_space().contains_packed(observation)) {
    warn(env_->name() + ": the observation returned by step() " +
         describe(observation_space(), observation) + " is not within the observation space " +
         observation_space().to_string());
  }
  if (has_non_finite(observation_space(), observation)) {
    warn(env_->name() + ": the observation returned by step() contains NaN or infinity");
  }
  if (!std::isfinite(outcome.reward)) {
    warn(env_->name() + ": the reward returned by step() is not finite (" +
         std::to_string(outcome.reward) + ")");
  }
  return outcome;
}

CheckResult check_env(Env& env, const CheckOptions& options) {
  CheckResult result;
  Space& observations = env.observation_space();
  Space& actions = env.action_space();

  // Spaces: samples must be members of their own space.
  for (Space* space : {&observations, &actions}) {
    const char* which = space == &observations ? "observation space" : "action space";
    space->seed(options.seed);
    for (int i = 0; i < 20; ++i) {
      const Value sample = space->sample();
      if (!space->contains(sample)) {
        fail(which, "sample " + sample.to_string() + " is not contained in " + space->to_string());
      }
      std::vector<std::byte> packed(space->packed_bytes());
      space->pack(sample, packed);
      if (!(space->unpack(packed) == sample)) {
        fail(which, "pack/unpack does not round-trip " + sample.to_string());
      }
    }
  }
  result.passed.push_back("spaces sample members of themselves: " + observations.to_string() +
                          ", " + actions.to_string());

  std::vector<std::byte> first(observations.packed_bytes());
  std::vector<std::byte> second(observations.packed_bytes());
  Info info;

  // reset(seed) is deterministic, also for the generator state it leaves behind.
  env.reset(first, info, options.seed);
  if (!observations.contains_packed(first)) {
    fail("reset", "observation " + describe(observations, first) +
                      " is not in the observation space " + observations.to_string());
  }
  const auto state_after_first = env.np_random().bit_generator().state();
  env.reset(second, info, options.seed);
  if (first != second) {
    fail("reset(seed) determinism", "two resets with seed " + std::to_string(options.seed) +
                                        " gave " + describe(observations, first) + " and " +
                                        describe(observations, second));
  }
  if (!(env.np_random().bit_generator().state() == state_after_first)) {
    fail("reset(seed) determinism",
         "np_random() is in a different state after two resets with the same seed");
  }
  result.passed.push_back("reset(seed) is deterministic and in the observation space");

  // Different seeds should usually give different initial observations.
  bool all_same = true;
  for (std::uint64_t s = 1; s <= 4 && all_same; ++s) {
    env.reset(second, info, options.seed + s);
    all_same = first == second;
  }
  if (all_same) {
    result.warnings.push_back("reset() with five different seeds gave the same observation; " +
                              std::string("is np_random() used for the initial state?"));
  }

  // A seeded random rollout, twice: identical trajectories, valid outputs.
  auto rollout = [&](std::vector<std::byte>& trace) {
    actions.seed(options.seed);
    std::vector<std::byte> observation(observations.packed_bytes());
    std::vector<std::byte> action(actions.packed_bytes());
    env.reset(observation, info, options.seed);
    trace.insert(trace.end(), observation.begin(), observation.end());
    std::int64_t episodes = 0;
    for (int t = 0; t < options.steps; ++t) {
      actions.sample_packed(action);
      const StepOutcome out = env.step(action, observation, info);
      if (!observations.contains_packed(observation)) {
        fail("step", "at step " + std::to_string(t) + " the observation " +
                         describe(observations, observation) + " is not in the observation space " +
                         observations.to_string());
      }
      if (!std::isfinite(out.reward)) {
        fail("step", "at step " + std::to_string(t) + " the reward is not finite (" +
                         std::to_string(out.reward) + ")");
      }
      trace.insert(trace.end(), observation.begin(), observation.end());
      const auto* reward_bytes = reinterpret_cast<const std::byte*>(&out.reward);
      trace.insert(trace.end(), reward_bytes, reward_bytes + sizeof(double));
      trace.push_back(std::byte(out.terminated ? 1 : 0));
      trace.push_back(std::byte(out.truncated ? 1 : 0));
      if (out.terminated || out.truncated) {
        ++episodes;
        env.reset(observation, info);
        if (!observations.contains_packed(observation)) {
          fail("reset", "after an episode the observation " + describe(observations, observation) +
                            " is not in the observation space");
        }
      }
    }
    return episodes;
  };
  std::vector<std::byte> trace_a;
  std::vector<std::byte> trace_b;
  result.episodes = rollout(trace_a);
  rollout(trace_b);
  if (trace_a != trace_b) {
    fail("seeded rollout determinism",
         "two rollouts with the same seeds gave different trajectories; the env must draw all its "
         "randomness from np_random()");
  }
  result.steps = options.steps;
  result.passed.push_back("seeded random rollout of " + std::to_string(options.steps) +
                          " steps is deterministic with valid observations and finite rewards (" +
                          std::to_string(result.episodes) + " episodes ended)");

  const auto& modes = env.metadata().render_modes;
  if (std::find(modes.begin(), modes.end(), "ansi") != modes.end()) {
    if (env.render().empty()) fail("render", "the ansi rendering is empty");
    result.passed.push_back("ansi rendering works");
  }
  return result;
}

}  // namespace locus::envs
