// A wrapper stack checks a step's action and buffers once, at its outermost layer, and forwards
// them unchecked to the env it wraps only when that is sound (same spaces, the very action that was
// checked, the env reset). These tests pin the errors a caller sees on a make()'d stack and the
// cases where a wrapper must still let the inner env check.

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "envs/cognitive/go_no_go.hpp"
#include "envs/errors.hpp"
#include "envs/registry.hpp"
#include "envs/wrapper.hpp"
#include "envs/wrappers/time_limit.hpp"
#include "tests/envs/warning_capture.hpp"

namespace {

using namespace locus::envs;
using locus::envs::testing::WarningCapture;

std::vector<std::byte> packed_action(std::int64_t action) {
  std::vector<std::byte> bytes(sizeof action);
  std::memcpy(bytes.data(), &action, sizeof action);
  return bytes;
}

// Forwards another action than the one it was given (its own, out of the inner action space) to
// Wrapper::step_impl: the inner env must check that one itself.
class SubstituteAction final : public Wrapper {
 public:
  SubstituteAction(std::unique_ptr<Env> env, std::int64_t substitute)
      : Wrapper(std::move(env)), substitute_(packed_action(substitute)) {}
  std::string name() const override { return "SubstituteAction"; }

 protected:
  StepOutcome step_impl(std::span<const std::byte> /*action*/, std::span<std::byte> observation,
                        Info& info) override {
    return Wrapper::step_impl(substitute_, observation, info);
  }

 private:
  std::vector<std::byte> substitute_;
};

// Declares a wider action space than the env it wraps and forwards the action unchanged.
class WiderActions final : public Wrapper {
 public:
  explicit WiderActions(std::unique_ptr<Env> env) : Wrapper(std::move(env)) {
    set_action_space(std::make_shared<Discrete>(3));
  }
  std::string name() const override { return "WiderActions"; }
};

}  // namespace

TEST_CASE("a make()'d stack rejects bad steps with its outermost layer's messages", "[wrappers]") {
  auto env = make("GoNoGo-v0");
  REQUIRE(env->to_string() ==
          "<TimeLimit<OrderEnforcing<PassiveEnvChecker<GoNoGoEnv<GoNoGo-v0>>>>>");
  std::vector<std::byte> obs(env->observation_space().packed_bytes());
  Info info;

  const auto go = packed_action(1);
  REQUIRE_THROWS_AS(env->step(go, obs, info), ResetNeededError);
  REQUIRE_THROWS_WITH(env->step(go, obs, info),
                      "TimeLimit: cannot call step() before calling reset()");

  env->reset(obs, info, 3);
  for (const std::int64_t bad : {std::int64_t{2}, std::int64_t{-1}}) {
    const auto action = packed_action(bad);
    REQUIRE_THROWS_AS(env->step(action, obs, info), InvalidActionError);
    REQUIRE_THROWS_WITH(
        env->step(action, obs, info),
        "TimeLimit: action " + std::to_string(bad) + " is not in the action space Discrete(2)");
  }
  std::vector<std::byte> short_obs(obs.size() - 4);
  REQUIRE_THROWS_AS(env->step(go, short_obs, info), BufferError);
  REQUIRE_THROWS_WITH(env->step(go, short_obs, info),
                      "TimeLimit: the observation buffer has 8 bytes, the space's packed layout "
                      "needs 12");
  const std::vector<std::byte> long_action(16);
  REQUIRE_THROWS_WITH(env->step(long_action, obs, info),
                      "TimeLimit: the action buffer has 16 bytes, the space's packed layout "
                      "needs 8");
  // The convenient path says the same.
  REQUIRE_THROWS_WITH(env->step(Array::scalar<std::int64_t>(2)),
                      "TimeLimit: action 2 is not in the action space Discrete(2)");
  // A rejected step changed nothing: the stack still steps.
  REQUIRE_NOTHROW(env->step(go, obs, info));
}

TEST_CASE("a make()'d stack steps exactly as the bare env", "[wrappers]") {
  auto wrapped = make("GoNoGo-v0");
  GoNoGoEnv bare;
  std::vector<std::byte> obs_wrapped(12);
  std::vector<std::byte> obs_bare(12);
  Info info_wrapped;
  Info info_bare;
  wrapped->reset(obs_wrapped, info_wrapped, 11);
  bare.reset(obs_bare, info_bare, 11);
  Rng actions(5);
  for (int t = 0; t < 2500; ++t) {
    const auto action = packed_action(actions.integers(2));
    const StepOutcome a = wrapped->step(action, obs_wrapped, info_wrapped);
    const StepOutcome b = bare.step(action, obs_bare, info_bare);
    REQUIRE(obs_wrapped == obs_bare);
    REQUIRE(a.reward == b.reward);
    REQUIRE(a.terminated == b.terminated);
    REQUIRE(info_wrapped == info_bare);
    // GoNoGo runs trials endlessly; the registered time limit truncates every 1000 steps.
    REQUIRE(a.truncated == ((t + 1) % 1000 == 0));
    if (a.truncated) {
      wrapped->reset(obs_wrapped, info_wrapped);
      bare.reset(obs_bare, info_bare);
    }
  }
}

TEST_CASE("a wrapper forwarding another action lets the inner env check it", "[wrappers]") {
  SubstituteAction env(std::make_unique<GoNoGoEnv>(), 7);
  std::vector<std::byte> obs(12);
  Info info;
  env.reset(obs, info, 0);
  const auto fixate = packed_action(0);
  REQUIRE_THROWS_AS(env.step(fixate, obs, info), InvalidActionError);
  REQUIRE_THROWS_WITH(env.step(fixate, obs, info),
                      "GoNoGoEnv: action 7 is not in the action space Discrete(2)");
}

TEST_CASE("a wrapper with other spaces lets the inner env check the action", "[wrappers]") {
  WiderActions env(std::make_unique<GoNoGoEnv>());
  std::vector<std::byte> obs(12);
  Info info;
  env.reset(obs, info, 0);
  REQUIRE_NOTHROW(env.step(packed_action(1), obs, info));
  // In the wrapper's Discrete(3), not in the env's Discrete(2).
  REQUIRE_THROWS_WITH(env.step(packed_action(2), obs, info),
                      "GoNoGoEnv: action 2 is not in the action space Discrete(2)");
}

TEST_CASE("a wrapper over an env that was reset on its own still checks order", "[wrappers]") {
  // The wrapper was never reset, so it refuses, although the env inside was.
  auto inner = std::make_unique<GoNoGoEnv>();
  std::vector<std::byte> obs(12);
  Info info;
  inner->reset(obs, info, 0);
  TimeLimit env(std::move(inner), 10);
  REQUIRE_THROWS_WITH(env.step(packed_action(0), obs, info),
                      "TimeLimit: cannot call step() before calling reset()");
}

TEST_CASE("stepping a make()'d stack after its episode ended warns once", "[wrappers]") {
  auto env = make("GoNoGo-v0", {{"trials_per_episode", 1}});
  std::vector<std::byte> obs(12);
  Info info;
  // A Go trial; going in the decision period ends it (and the episode) at once.
  env->reset(obs, info, 0, {{"trial", {{"ground_truth", 1}}}});
  StepOutcome outcome;
  int steps = 0;
  while (!outcome.terminated) {
    outcome = env->step(packed_action(1), obs, info);
    REQUIRE(++steps <= 15);
  }
  REQUIRE(outcome.reward == 1.0);
  WarningCapture capture;
  env->step(packed_action(0), obs, info);
  env->step(packed_action(0), obs, info);
  // One warning from the layer the caller stepped, not one per layer of the stack.
  REQUIRE(WarningCapture::messages().size() == 1);
  REQUIRE(WarningCapture::messages()[0].find("TimeLimit: step() called after the episode ended") ==
          0);
}
