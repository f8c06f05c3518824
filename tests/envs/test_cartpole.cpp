// CartPole-v1 against Gymnasium: golden values computed with gymnasium 1.x
// (`gym.make("CartPole-v1").reset(seed=...)`), plus determinism, bounds and error handling.
// Tolerance 1e-6 on float32 observations: libm and numpy may differ by an ulp in sin/cos, which
// can move the last float32 bit; flags and rewards are compared exactly.

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "envs/classic_control/cartpole.hpp"
#include "envs/registry.hpp"
#include "tests/envs/observation_util.hpp"

using namespace locus::envs;
using locus::envs::testing::observation_of;
using locus::envs::testing::require_close;

namespace {

Value action(std::int64_t a) {
  return Array::scalar<std::int64_t>(a);
}

}  // namespace

TEST_CASE("CartPole-v1 reset matches Gymnasium's golden values", "[cartpole]") {
  auto env = make("CartPole-v1");
  require_close(observation_of(env->reset(123).observation),
                {0.01823519, -0.0446179, -0.02796401, -0.03156282});
  require_close(
      observation_of(env->reset(0).observation),
      {0.013696168549358845, -0.023021329194307327, -0.04590264707803726, -0.04834723472595215});
  require_close(observation_of(env->reset(42).observation),
                {0.0273956, -0.00611216, 0.03585979, 0.0197368});
}

TEST_CASE("CartPole-v1 steps match Gymnasium after reset(seed=42)", "[cartpole]") {
  auto env = make("CartPole-v1");
  env->reset(42);
  const std::array<std::array<double, 4>, 3> expected = {{
      {0.02727336250245571, 0.18847766518592834, 0.036254528909921646, -0.26141977310180664},
      {0.0310429148375988, 0.3830638527870178, 0.03102613240480423, -0.5424507260322571},
      {0.03870419040322304, 0.5777363181114197, 0.020177118480205536, -0.8251987099647522},
  }};
  for (const auto& want : expected) {
    const StepResult r = env->step(action(1));
    require_close(observation_of(r.observation), want);
    REQUIRE(r.reward == 1.0);
    REQUIRE_FALSE(r.terminated);
    REQUIRE_FALSE(r.truncated);
  }
}

TEST_CASE("CartPole-v1 with seed 42 and always pushing right terminates on step 10", "[cartpole]") {
  auto env = make("CartPole-v1");
  env->reset(42);
  int steps = 0;
  StepResult r;
  do {
    r = env->step(action(1));
    ++steps;
    // The terminal step is rewarded too, as in Gymnasium.
    REQUIRE(r.reward == 1.0);
  } while (!r.terminated && steps < 100);
  REQUIRE(steps == 10);
  REQUIRE_FALSE(r.truncated);
  require_close(observation_of(r.observation), {0.20159529149532318, 1.9464185237884521,
                                                -0.22034578025341034, -2.9908077716827393});
}

TEST_CASE("CartPole-v1 reset options low/high override the initial range", "[cartpole]") {
  auto env = make("CartPole-v1");
  require_close(
      observation_of(env->reset(7, {{"low", -0.2}, {"high", 0.2}}).observation),
      {0.050038184970617294, 0.15888552367687225, 0.11027427762746811, -0.10991712659597397});
  REQUIRE_THROWS_WITH(env->reset(7, {{"low", 0.3}, {"high", 0.2}}),
                      Catch::Contains("must not exceed"));
  // An option it does not read is ignored, as Gymnasium's CartPole ignores it.
  REQUIRE_NOTHROW(env->reset(7, {{"lo", 0.1}}));
}

TEST_CASE("CartPole-v1 is deterministic under a seed and differs across seeds", "[cartpole]") {
  auto run = [](std::uint64_t seed) {
    auto env = make("CartPole-v1");
    std::vector<float> trajectory = observation_of(env->reset(seed).observation);
    Space& actions = env->action_space();
    actions.seed(seed);
    for (int t = 0; t < 200; ++t) {
      StepResult r = env->step(actions.sample());
      auto obs = observation_of(r.observation);
      trajectory.insert(trajectory.end(), obs.begin(), obs.end());
      trajectory.push_back(r.terminated ? 1.0f : 0.0f);
      if (r.terminated || r.truncated) {
        obs = observation_of(env->reset().observation);
        trajectory.insert(trajectory.end(), obs.begin(), obs.end());
      }
    }
    return trajectory;
  };
  REQUIRE(run(3) == run(3));
  REQUIRE(run(3) != run(4));
}

TEST_CASE("CartPole-v1 observations stay in the observation space", "[cartpole]") {
  auto env = make("CartPole-v1");
  Space& actions = env->action_space();
  actions.seed(11);
  ResetResult reset = env->reset(11);
  REQUIRE(env->observation_space().contains(reset.observation));
  int episodes = 0;
  for (int t = 0; t < 2000; ++t) {
    StepResult r = env->step(actions.sample());
    REQUIRE(env->observation_space().contains(r.observation));
    if (r.terminated || r.truncated) {
      ++episodes;
      REQUIRE(env->observation_space().contains(env->reset().observation));
    }
  }
  REQUIRE(episodes > 10);
}

TEST_CASE("CartPole-v1 is registered as Gymnasium registers it", "[cartpole][registry]") {
  auto spec = Registry::global().spec("CartPole-v1");
  REQUIRE(spec->max_episode_steps == 500);
  REQUIRE(spec->reward_threshold == 475.0);
  auto env = make("CartPole-v1");
  const auto* box = dynamic_cast<const Box*>(&env->observation_space());
  REQUIRE(box != nullptr);
  REQUIRE(box->dtype() == DType::kFloat32);
  REQUIRE(box->high()[0] == Approx(4.8));
  REQUIRE(std::isinf(box->high()[1]));
  REQUIRE(box->high()[2] == Approx(0.41887903));
  REQUIRE(box->low()[2] == Approx(-0.41887903));
  REQUIRE(env->action_space().to_string() == "Discrete(2)");
  REQUIRE(env->to_string() ==
          "<TimeLimit<OrderEnforcing<PassiveEnvChecker<CartPoleEnv<CartPole-v1>>>>>");
}

TEST_CASE("CartPole-v1 truncates at 500 steps", "[cartpole]") {
  // Balanced by a simple controller (push toward the pole's lean) so the time limit is reached.
  auto env = make("CartPole-v1");
  env->reset(1);
  auto& cartpole = dynamic_cast<CartPoleEnv&>(env->unwrapped());
  StepResult r;
  int steps = 0;
  do {
    const auto& s = cartpole.state();
    r = env->step(action(s[2] + 0.5 * s[3] > 0 ? 1 : 0));
    ++steps;
  } while (!r.terminated && !r.truncated);
  REQUIRE(steps == 500);
  REQUIRE(r.truncated);
  REQUIRE_FALSE(r.terminated);
}

TEST_CASE("CartPole-v1 rejects bad input with a clear message", "[cartpole][errors]") {
  auto env = make("CartPole-v1");
  REQUIRE_THROWS_AS(env->step(action(1)), ResetNeededError);
  env->reset(0);
  REQUIRE_THROWS_WITH(env->step(action(2)), Catch::Contains("not in the action space Discrete(2)"));
  REQUIRE_THROWS_AS(env->step(Array::scalar<double>(1.0)), InvalidActionError);
  REQUIRE_THROWS_WITH(make("CartPole-v1", {{"gravity", 3}}),
                      Catch::Contains("unknown argument 'gravity'"));
  std::vector<std::byte> small(3);
  Info info;
  REQUIRE_THROWS_AS(env->reset(small, info), BufferError);
}

TEST_CASE("CartPole-v1 renders as text", "[cartpole]") {
  auto env = make("CartPole-v1", {{"render_mode", "ansi"}});
  env->reset(0);
  const std::string frame = env->render();
  REQUIRE(frame.find('#') != std::string::npos);
  REQUIRE(frame.find("theta=") != std::string::npos);
  REQUIRE_THROWS_WITH(make("CartPole-v1", {{"render_mode", "human"}}),
                      Catch::Contains("render_mode 'human' is not supported"));
}
