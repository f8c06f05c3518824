// PerceptualDecisionMaking-v0, DelayMatchSample-v0, ContextDecisionMaking-v0 and
// ReversalBandit-v0 (NeuroGym's timings and rewards), and the shared trial machinery (period
// durations, Python's floor division): trial layouts checked value by value with the noise off,
// scripted policies whose rewards are counted by hand, determinism, bounds, the env checker and
// errors.

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "envs/cognitive/context_decision_making.hpp"
#include "envs/cognitive/delay_match_sample.hpp"
#include "envs/cognitive/perceptual_decision_making.hpp"
#include "envs/cognitive/reversal_bandit.hpp"
#include "envs/wrappers/env_checker.hpp"
#include "tests/envs/cognitive_test_util.hpp"

using namespace locus::envs;
using locus::envs::testing::kNoTimeLimit;
using locus::envs::testing::TaskRunner;

namespace {

using Obs = std::vector<float>;
constexpr double kPi = 3.14159265358979323846;

float ring(double preferred, double direction, double coh) {
  return static_cast<float>(std::cos(preferred - direction) * (coh / 200.0) + 0.5);
}

// Steps until the trial ends; returns the steps taken and the summed reward.
std::pair<int, double> finish_trial(TaskRunner& runner, std::int64_t action) {
  int steps = 0;
  double total = 0.0;
  do {
    total += runner.step(action).reward;
    ++steps;
  } while (!runner.info().get_bool("trial_ended"));
  return {steps, total};
}

// Same seed, same trajectory under seeded random actions; a different seed, a different one.
void require_deterministic(const std::string& id, const Kwargs& kwargs) {
  const auto trace = [&](std::uint64_t seed) {
    TaskRunner runner(id, kwargs);
    std::vector<float> out = runner.reset(seed);
    Space& actions = runner.env().action_space();
    actions.seed(seed);
    for (int t = 0; t < 1500; ++t) {
      const StepOutcome r = runner.step(actions.sample().array().as<std::int64_t>()[0]);
      const Obs obs = runner.observation();
      REQUIRE(runner.env().observation_space().contains_packed(std::as_bytes(std::span(obs))));
      for (const float v : obs) REQUIRE(std::isfinite(v));
      out.insert(out.end(), obs.begin(), obs.end());
      out.push_back(static_cast<float>(r.reward));
      if (r.terminated || r.truncated) {
        const Obs first = runner.reset();
        out.insert(out.end(), first.begin(), first.end());
      }
    }
    return out;
  };
  REQUIRE(trace(17) == trace(17));
  REQUIRE(trace(17) != trace(18));
}

void require_checker_passes(const std::string& id, const Kwargs& kwargs) {
  auto env = make(id, kwargs);
  REQUIRE(check_env(env->unwrapped(), {.steps = 400}).steps == 400);
  REQUIRE_NOTHROW(check_env(*env, {.steps = 400}));
}

}  // namespace

// ---- the shared machinery ----

TEST_CASE("Period durations parse NeuroGym's timing forms", "[cognitive][timing]") {
  Rng rng(0);
  REQUIRE(PeriodDuration::parse(500, "t").kind() == PeriodDuration::Kind::kConstant);
  REQUIRE(PeriodDuration::parse(500, "t").sample(rng) == 500);
  const auto choice = PeriodDuration::parse({300, 500, 700}, "t");
  REQUIRE(choice.kind() == PeriodDuration::Kind::kChoice);
  REQUIRE(choice.min() == 300);
  for (int i = 0; i < 50; ++i) {
    const double d = choice.sample(rng);
    REQUIRE((d == 300 || d == 500 || d == 700));
  }
  const auto uniform = PeriodDuration::parse({"uniform", {200, 400}}, "t");
  REQUIRE(uniform.min() == 200);
  for (int i = 0; i < 50; ++i) {
    const double d = uniform.sample(rng);
    REQUIRE(d >= 200);
    REQUIRE(d < 400);
  }
  REQUIRE(PeriodDuration::parse({"constant", 250}, "t").sample(rng) == 250);
  REQUIRE(PeriodDuration::parse({"choice", {1, 2}}, "t").kind() == PeriodDuration::Kind::kChoice);
  const auto trunc = PeriodDuration::parse({"truncated_exponential", {600, 300, 3000}}, "t");
  REQUIRE(trunc.min() == 300);
  double sum = 0.0;
  for (int i = 0; i < 2000; ++i) {
    const double d = trunc.sample(rng);
    REQUIRE(d >= 300);
    REQUIRE(d < 3000);
    sum += d;
  }
  // An exponential of mean 600 conditioned on [300, 3000): mean 300 + 600 - (2700 e^-4.5) /
  // (1 - e^-4.5) = 869.6.
  REQUIRE(sum / 2000 == Approx(869.6).epsilon(0.06));
  // min >= max gives max, as NeuroGym's TruncExp.
  REQUIRE(PeriodDuration::truncated_exponential(100, 500, 400).sample(rng) == 400);
  REQUIRE(trunc.to_json() ==
          nlohmann::json::parse(R"(["truncated_exponential", [600, 300, 3000]])"));
  REQUIRE(PeriodDuration::parse(trunc.to_json(), "t").min() == 300);

  REQUIRE_THROWS_WITH(PeriodDuration::parse("500", "timing 'delay'"),
                      Catch::Contains("timing 'delay'") && Catch::Contains("accepted"));
  REQUIRE_THROWS_WITH(PeriodDuration::parse({"uniform", {400, 200}}, "t"),
                      Catch::Contains("low <= high"));
  REQUIRE_THROWS_WITH(PeriodDuration::parse({"truncated_exponential", {0}}, "t"),
                      Catch::Contains("positive mean"));
  REQUIRE_THROWS_WITH(PeriodDuration::parse(nlohmann::json::array(), "t"),
                      Catch::Contains("not a duration"));
}

TEST_CASE("python_floor_divide is Python's float //", "[cognitive][timing]") {
  // Values printed by CPython 3.11: 1.0 // 0.1 is 9.0, not 10.
  REQUIRE(python_floor_divide(1.0, 0.1) == 9.0);
  REQUIRE(python_floor_divide(0.3, 0.1) == 2.0);
  REQUIRE(python_floor_divide(-7.0, 2) == -4.0);
  REQUIRE(python_floor_divide(7.0, -2) == -4.0);
  REQUIRE(python_floor_divide(2.5, 0.5) == 5.0);
  REQUIRE(std::signbit(python_floor_divide(-0.0, 5)));
  REQUIRE(std::signbit(python_floor_divide(0.0, -5)));
}

// ---- PerceptualDecisionMaking-v0 ----

TEST_CASE("PerceptualDecisionMaking-v0 trial layout and rewards", "[cognitive][pdm]") {
  auto spec = Registry::global().spec("PerceptualDecisionMaking-v0");
  REQUIRE(spec->max_episode_steps == 1000);
  REQUIRE(make("PerceptualDecisionMaking-v0")->observation_space().to_string() ==
          "Box(-inf, inf, (3,), float32)");
  REQUIRE(make("PerceptualDecisionMaking-v0")->action_space().to_string() == "Discrete(3)");
  PerceptualDecisionMakingEnv defaults;
  REQUIRE(defaults.sigma() == 1.0);
  REQUIRE(defaults.noise_std() == Approx(0.1));
  REQUIRE(defaults.cohs() == std::vector<double>{0, 6.4, 12.8, 25.6, 51.2});

  for (const bool go_cue : {true, false}) {
    INFO("go_cue " << go_cue);
    TaskRunner runner("PerceptualDecisionMaking-v0", {{"sigma", 0}, {"go_cue", go_cue}});
    REQUIRE(runner.env().observation_space().to_string() == "Box(0.0, 1.0, (3,), float32)");
    // Direction 2 (theta = pi), coherence 51.2: fixation 1 step, stimulus 20, decision 1.
    const Obs fixation = runner.reset(0, {{"trial", {{"ground_truth", 2}, {"coh", 51.2}}}});
    REQUIRE(fixation == Obs{1.0F, 0.0F, 0.0F});
    REQUIRE(runner.info().get_double("coh") == 51.2);
    const Obs stimulus = {go_cue ? 1.0F : 0.0F, ring(0, kPi, 51.2), ring(kPi, kPi, 51.2)};
    for (int step = 0; step < 21; ++step) {
      const StepOutcome out = runner.step(step == 5 ? 1 : 0);  // an early choice is ignored
      REQUIRE(out.reward == 0.0);
      REQUIRE_FALSE(runner.info().get_bool("trial_ended"));
      REQUIRE(runner.observation() == (step < 20 ? stimulus : Obs{0.0F, 0.0F, 0.0F}));
      REQUIRE(runner.info().get_int("target") == 0);
    }
    REQUIRE(stimulus[2] == Approx(0.756));
    const StepOutcome answer = runner.step(2);
    REQUIRE(runner.info().get_int("target") == 2);
    REQUIRE(answer.reward == 1.0);
    REQUIRE(runner.info().get_string("outcome") == "correct");
  }

  TaskRunner runner("PerceptualDecisionMaking-v0", {{"sigma", 0}});
  runner.reset(0, {{"trial", {{"ground_truth", 1}, {"coh", 0}}}});
  // Choosing 2 on every step: the fixation step costs the abort reward (-0.1, the trial goes on
  // without `abort`), the stimulus steps nothing, the decision step fails (0).
  auto [steps, total] = finish_trial(runner, 2);
  REQUIRE(steps == 22);
  REQUIRE(total == Approx(-0.1).epsilon(1e-15));
  REQUIRE(runner.info().get_string("outcome") == "incorrect");
  std::tie(steps, total) = finish_trial(runner, 0);  // no choice: miss, 0
  REQUIRE(steps == 22);
  REQUIRE(runner.info().get_string("outcome") == "miss");
  REQUIRE_FALSE(runner.info().get_bool("correct"));
}

TEST_CASE("PerceptualDecisionMaking-v0 scripted policy: the stronger side wins",
          "[cognitive][pdm]") {
  // Noise-free stimuli with non-zero coherence: choosing the brighter channel is always right, a
  // +1 per trial; the opposite choice earns 0 every trial.
  for (const bool right : {true, false}) {
    TaskRunner runner("PerceptualDecisionMaking-v0",
                      {{"sigma", 0}, {"cohs", {6.4, 25.6}}, {"dim_ring", 2}}, kNoTimeLimit);
    Obs obs = runner.reset(4);
    double total = 0.0;
    int trials = 0;
    std::int64_t choice = 0;
    while (trials < 50) {
      if (obs[1] != 0.0F || obs[2] != 0.0F) {
        const bool first = obs[1] > obs[2];
        choice = (first == right) ? 1 : 2;
      }
      const bool deciding = obs[0] == 0.0F;
      total += runner.step(deciding ? choice : 0).reward;
      obs = runner.observation();
      if (runner.info().get_bool("trial_ended")) {
        REQUIRE(runner.info().get_bool("correct") == right);
        ++trials;
      }
    }
    REQUIRE(total == (right ? 50.0 : 0.0));
  }
}

TEST_CASE("PerceptualDecisionMaking-v0 with a ring of 8 and other timing", "[cognitive][pdm]") {
  PerceptualDecisionMakingEnv env(
      Kwargs{{"dim_ring", 8}, {"sigma", 0}, {"dt", 20}, {"timing", {{"stimulus", 300}}}});
  REQUIRE(env.observation_space().to_string() == "Box(0.0, 1.0, (9,), float32)");
  REQUIRE(env.action_space().to_string() == "Discrete(9)");
  std::vector<std::byte> obs(env.observation_space().packed_bytes());
  Info info;
  env.reset(obs, info, 1, {{"trial", {{"ground_truth", 4}, {"coh", 25.6}}}});
  REQUIRE(env.timeline().length() == 5 + 15 + 0 + 5);
  std::vector<std::byte> action(8);
  for (int i = 0; i < 5; ++i) env.step(action, obs, info);
  const auto o = as_span<float>(std::span(obs));
  for (std::size_t i = 0; i < 8; ++i) {
    REQUIRE(o[1 + i] == ring(ring_angle(i, 8), ring_angle(3, 8), 25.6));
  }
  REQUIRE(o[4] == Approx(0.628));  // the preferred direction: 0.5 + 25.6 / 200
}

TEST_CASE("PerceptualDecisionMaking-v0 determinism, checker, errors", "[cognitive][pdm]") {
  require_deterministic("PerceptualDecisionMaking-v0", Kwargs::object());
  require_checker_passes("PerceptualDecisionMaking-v0", Kwargs::object());
  require_checker_passes("PerceptualDecisionMaking-v0", {{"trials_per_episode", 1}});
  REQUIRE_THROWS_WITH(make("PerceptualDecisionMaking-v0", {{"dim_ring", 1}}),
                      Catch::Contains("'dim_ring' must be in [2, 1024], got 1"));
  REQUIRE_THROWS_WITH(make("PerceptualDecisionMaking-v0", {{"cohs", Kwargs::array()}}),
                      Catch::Contains("'cohs' must be a non-empty list"));
  auto env = make("PerceptualDecisionMaking-v0");
  REQUIRE_THROWS_WITH(env->reset(0, {{"trial", {{"coh", 7}}}}),
                      Catch::Contains("'coh' must be one of [0.0,6.4,12.8,25.6,51.2], got 7"));
  REQUIRE_THROWS_WITH(env->reset(0, {{"trial", {{"ground_truth", 0}}}}),
                      Catch::Contains("'ground_truth' is the correct action, 1 to 2, got 0"));
}

// ---- DelayMatchSample-v0 ----

TEST_CASE("DelayMatchSample-v0 trial layout and rewards", "[cognitive][dms]") {
  REQUIRE(make("DelayMatchSample-v0")->action_space().to_string() == "Discrete(3)");
  for (const std::int64_t gt : {1, 2}) {
    INFO("ground truth " << gt);
    TaskRunner runner("DelayMatchSample-v0", {{"sigma", 0}});
    // Sample at direction 0: [1, 0] on the ring; the test is the same (match) or opposite.
    Obs obs = runner.reset(2, {{"trial", {{"ground_truth", gt}, {"sample", 0}}}});
    REQUIRE(runner.info().get_int("sample") == 0);
    const Obs fixation = {1.0F, 0.0F, 0.0F};
    const Obs sample = {1.0F, 1.0F, 0.0F};
    const Obs test = gt == 1 ? sample : Obs{1.0F, 0.0F, 1.0F};
    // fixation 3 steps, sample 5, delay 10, test 5, decision 9.
    std::vector<Obs> seen = {obs};
    for (int step = 0; step < 31; ++step) {
      REQUIRE(runner.step(0).reward == 0.0);
      seen.push_back(runner.observation());
    }
    for (int step = 0; step < 32; ++step) {
      INFO("step " << step);
      const Obs want = step < 3    ? fixation
                       : step < 8  ? sample
                       : step < 18 ? fixation
                       : step < 23 ? test
                                   : Obs{0.0F, 0.0F, 0.0F};
      REQUIRE(seen[static_cast<std::size_t>(step)] == want);
    }
    // The last decision step: answering right pays +1, wrong 0.
    const StepOutcome out = runner.step(gt);
    REQUIRE(out.reward == 1.0);
    REQUIRE(runner.info().get_string("outcome") == "correct");
  }
}

TEST_CASE("DelayMatchSample-v0 scripted policy compares sample and test", "[cognitive][dms]") {
  TaskRunner runner("DelayMatchSample-v0", {{"sigma", 0}, {"dim_ring", 4}}, kNoTimeLimit);
  Obs obs = runner.reset(6);
  Obs remembered;
  Obs last_stimulus;
  double total = 0.0;
  int trials = 0;
  int matches = 0;
  while (trials < 60) {
    const bool stimulus = obs[0] == 1.0F && (obs[1] + obs[2] + obs[3] + obs[4]) > 0.0F;
    if (stimulus) {
      // The first stimulus of a trial is the sample, the last one the test.
      if (remembered.empty()) remembered = obs;
      last_stimulus = obs;
    }
    std::int64_t action = 0;
    if (obs[0] == 0.0F) action = last_stimulus == remembered ? 1 : 2;
    total += runner.step(action).reward;
    obs = runner.observation();
    if (runner.info().get_bool("trial_ended")) {
      REQUIRE(runner.info().get_bool("correct"));
      matches += runner.info().get_int("ground_truth") == 1;
      ++trials;
      remembered.clear();
      last_stimulus.clear();
    }
  }
  REQUIRE(total == 60.0);
  REQUIRE(matches > 15);
  REQUIRE(matches < 45);
}

TEST_CASE("DelayMatchSample-v0 determinism, checker, errors", "[cognitive][dms]") {
  require_deterministic("DelayMatchSample-v0", Kwargs::object());
  require_checker_passes("DelayMatchSample-v0", Kwargs::object());
  require_checker_passes("DelayMatchSample-v0", {{"trials_per_episode", 2}, {"sigma", 0}});
  auto env = make("DelayMatchSample-v0");
  REQUIRE_THROWS_WITH(env->reset(0, {{"trial", {{"ground_truth", 0}}}}),
                      Catch::Contains("'ground_truth' must be 1 (match) or 2 (non-match), got 0"));
  REQUIRE_THROWS_WITH(env->reset(0, {{"trial", {{"sample", 2}}}}),
                      Catch::Contains("'sample' is a ring index, 0 to 1, got 2"));
}

// ---- ContextDecisionMaking-v0 ----

TEST_CASE("ContextDecisionMaking-v0 trial layout, go cue and context", "[cognitive][cdm]") {
  REQUIRE(make("ContextDecisionMaking-v0")->observation_space().to_string() ==
          "Box(-inf, inf, (5,), float32)");
  REQUIRE(make("ContextDecisionMaking-v0", {{"use_expl_context", true}})
              ->observation_space()
              .to_string() == "Box(-inf, inf, (7,), float32)");
  for (const bool go_cue : {true, false}) {
    INFO("go_cue " << go_cue);
    // Context 1 (modality 2 counts): ground truth 2 shown on modality 2, the distractor 1 on
    // modality 1. A fixed delay of 500 ms: fixation 3, stimulus 7, delay 5, decision 1.
    TaskRunner runner("ContextDecisionMaking-v0", {{"sigma", 0},
                                                   {"use_expl_context", true},
                                                   {"go_cue", go_cue},
                                                   {"timing", {{"delay", 500}}}});
    const Obs first = runner.reset(3, {{"trial",
                                        {{"ground_truth", 2},
                                         {"other_choice", 1},
                                         {"context", 1},
                                         {"coh_1", 50},
                                         {"coh_2", 15}}}});
    REQUIRE(first == Obs{1.0F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F, 1.0F});
    REQUIRE(runner.info().get_int("context") == 1);
    std::vector<Obs> seen = {first};
    for (int step = 0; step < 15; ++step) {
      runner.step(0);
      seen.push_back(runner.observation());
    }
    const float fix = go_cue ? 1.0F : 0.0F;
    const Obs stimulus = {
        fix, ring(0, 0, 50), ring(kPi, 0, 50), ring(0, kPi, 15), ring(kPi, kPi, 15), 0.0F, 1.0F};
    for (int step = 3; step < 10; ++step) REQUIRE(seen[static_cast<std::size_t>(step)] == stimulus);
    for (int step = 10; step < 15; ++step) {
      REQUIRE(seen[static_cast<std::size_t>(step)] == Obs{fix, 0, 0, 0, 0, 0, 1});
    }
    // The decision step: the fixation cue is off (the go cue) and the context is still shown.
    REQUIRE(seen[15] == Obs{0, 0, 0, 0, 0, 0, 1});
    const StepOutcome out = runner.step(2);
    REQUIRE(out.reward == 1.0);
    REQUIRE(runner.info().get_string("outcome") == "correct");
  }
}

TEST_CASE("ContextDecisionMaking-v0 scripted policy follows the context", "[cognitive][cdm]") {
  // Reading the modality the context names is always right; reading the other one is right only
  // when the two modalities happen to agree.
  for (const bool follow : {true, false}) {
    TaskRunner runner("ContextDecisionMaking-v0", {{"sigma", 0}, {"use_expl_context", true}},
                      kNoTimeLimit);
    Obs obs = runner.reset(9);
    std::int64_t choice = 0;
    int trials = 0;
    int correct = 0;
    int agree = 0;
    double total = 0.0;
    while (trials < 100) {
      if (obs[1] + obs[2] + obs[3] + obs[4] > 0.0F) {
        const bool context_2 = obs[6] == 1.0F;
        const bool use_2 = follow ? context_2 : !context_2;
        const float a = use_2 ? obs[3] : obs[1];
        const float b = use_2 ? obs[4] : obs[2];
        choice = a > b ? 1 : 2;
        agree = ((obs[1] > obs[2]) == (obs[3] > obs[4])) ? 1 : 0;
      }
      total += runner.step(obs[0] == 0.0F ? choice : 0).reward;
      obs = runner.observation();
      if (runner.info().get_bool("trial_ended")) {
        const bool right = runner.info().get_bool("correct");
        if (follow) REQUIRE(right);
        if (!follow) REQUIRE(right == (agree == 1));
        correct += right;
        ++trials;
      }
    }
    REQUIRE(total == correct);
    if (!follow) {
      REQUIRE(correct > 25);
      REQUIRE(correct < 75);
    }
  }
}

TEST_CASE("ContextDecisionMaking-v0 random delays, determinism, checker, errors",
          "[cognitive][cdm]") {
  ContextDecisionMakingEnv env;
  std::vector<std::byte> obs(env.observation_space().packed_bytes());
  std::vector<std::byte> action(8);
  Info info;
  env.reset(obs, info, 5);
  std::int64_t shortest = 1000;
  std::int64_t longest = 0;
  for (int trial = 0; trial < 100; ++trial) {
    // TruncExp(600, 300, 3000) floored to 100 ms steps: 3 to 29 steps of delay.
    const std::int64_t delay = env.timeline().end(2) - env.timeline().start(2);
    REQUIRE(delay >= 3);
    REQUIRE(delay <= 29);
    shortest = std::min(shortest, delay);
    longest = std::max(longest, delay);
    const std::int64_t index = env.trial_index();
    while (env.trial_index() == index) env.step(action, obs, info);
  }
  REQUIRE(shortest < longest);
  require_deterministic("ContextDecisionMaking-v0", Kwargs::object());
  require_checker_passes("ContextDecisionMaking-v0", Kwargs::object());
  require_checker_passes("ContextDecisionMaking-v0", {{"use_expl_context", true}});
  REQUIRE_THROWS_WITH(make("ContextDecisionMaking-v0", {{"impl_context_modality", 2}}),
                      Catch::Contains("'impl_context_modality' must be 0 or 1, got 2"));
  auto made = make("ContextDecisionMaking-v0");
  REQUIRE_THROWS_WITH(made->reset(0, {{"trial", {{"context", 1}}}}),
                      Catch::Contains("'context' must be 0 (the implicit context modality)"));
  REQUIRE_THROWS_WITH(made->reset(0, {{"trial", {{"coh_2", 16}}}}),
                      Catch::Contains("'coh_2' must be one of [5.0,15.0,50.0], got 16"));
}

// ---- ReversalBandit-v0 ----

TEST_CASE("ReversalBandit-v0 probabilities reverse every block", "[cognitive][bandit]") {
  REQUIRE(make("ReversalBandit-v0")->observation_space().to_string() ==
          "Box(0.0, 1.0, (3,), float32)");
  REQUIRE(make("ReversalBandit-v0")->action_space().to_string() == "Discrete(2)");
  TaskRunner runner("ReversalBandit-v0", {{"block_length", 10}, {"p", {1.0, 0.0}}});
  REQUIRE(runner.reset(0) == Obs{0.0F, 0.0F, 0.0F});
  REQUIRE(runner.info().get_int("ground_truth") == 0);
  double total = 0.0;
  for (int trial = 0; trial < 40; ++trial) {
    // Always pull arm 0: it pays in blocks 0 and 2 (p = [1, 0]), never in blocks 1 and 3.
    const StepOutcome out = runner.step(0);
    total += out.reward;
    const bool paying_block = (trial / 10) % 2 == 0;
    REQUIRE(out.reward == (paying_block ? 1.0 : 0.0));
    REQUIRE(runner.info().get_bool("correct") == paying_block);
    REQUIRE(runner.info().get_int("ground_truth") == (paying_block ? 0 : 1));
    REQUIRE(runner.info().get_int("block") == trial / 10);
    REQUIRE(runner.info().get_bool("reversal") == ((trial + 1) % 10 == 0));
    REQUIRE(runner.info().get_int("trial") == trial);
    REQUIRE(runner.observation() == Obs{paying_block ? 1.0F : 0.0F, 1.0F, 0.0F});
  }
  REQUIRE(total == 20.0);
}

TEST_CASE("ReversalBandit-v0 pays with the arms' probabilities", "[cognitive][bandit]") {
  TaskRunner runner("ReversalBandit-v0", {{"block_length", 4000}, {"rewards", {2.0, 1.0}}},
                    kNoTimeLimit);
  runner.reset(3);
  double arm0 = 0.0;
  double arm1 = 0.0;
  for (int t = 0; t < 4000; ++t) (t % 2 == 0 ? arm0 : arm1) += runner.step(t % 2).reward;
  // 2000 pulls each: arm 0 pays 2 with p 0.8, arm 1 pays 1 with p 0.2 (4 standard errors).
  REQUIRE(arm0 / 2000 == Approx(1.6).margin(4 * 2 * std::sqrt(0.16 / 2000)));
  REQUIRE(arm1 / 2000 == Approx(0.2).margin(4 * std::sqrt(0.16 / 2000)));
}

TEST_CASE("ReversalBandit-v0 episodes, block lengths and seeding", "[cognitive][bandit]") {
  TaskRunner runner(
      "ReversalBandit-v0",
      {{"trials_per_episode", 5}, {"block_length", 3}, {"block_length_max", 7}, {"p", {0.9, 0.1}}});
  auto& env = dynamic_cast<ReversalBanditEnv&>(runner.env().unwrapped());
  runner.reset(1);
  std::vector<std::int64_t> best;
  for (int episode = 0; episode < 20; ++episode) {
    if (episode > 0) runner.reset();  // the block schedule runs on across episodes
    for (int t = 0; t < 5; ++t) {
      REQUIRE(env.block_length() >= 3);
      REQUIRE(env.block_length() <= 7);
      const StepOutcome out = runner.step(0);
      REQUIRE(out.terminated == (t == 4));
      best.push_back(runner.info().get_int("ground_truth"));
    }
  }
  REQUIRE(env.block() >= 100 / 7);
  REQUIRE(env.block() <= 100 / 3);
  runner.reset(1);
  REQUIRE(env.block() == 0);
  REQUIRE(runner.info().get_int("trial") == 0);
  require_deterministic("ReversalBandit-v0", {{"block_length", 5}, {"sigma", 0.5}});
  require_checker_passes("ReversalBandit-v0", Kwargs::object());
  require_checker_passes("ReversalBandit-v0", {{"trials_per_episode", 1}, {"sigma", 1.0}});
  REQUIRE_THROWS_WITH(make("ReversalBandit-v0", {{"p", {0.5}}}),
                      Catch::Contains("'p' needs at least two arms"));
  REQUIRE_THROWS_WITH(make("ReversalBandit-v0", {{"p", {0.5, 1.5}}}),
                      Catch::Contains("must be in [0, 1]"));
  REQUIRE_THROWS_WITH(make("ReversalBandit-v0", {{"rewards", {1, 1, 1}}}),
                      Catch::Contains("'rewards' needs one value per arm (2)"));
  REQUIRE_THROWS_WITH(make("ReversalBandit-v0", {{"block_length", 5}, {"block_length_max", 4}}),
                      Catch::Contains("1 <= 'block_length' <= 'block_length_max'"));
}
