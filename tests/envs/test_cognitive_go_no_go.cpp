// GoNoGo-v0 against its reference facts (docs/envs.md; NeuroGym 2.3.1's GoNogo-v0): trial
// layout, reward bookkeeping under scripted policies, the fixed NeuroGym faults (seeded trials,
// correct rejections scored correct, no hidden reset step), the episode modes, timing, noise,
// determinism, bounds, the env checker and errors. The step-by-step comparison with NeuroGym itself
// is the oracle test tests/envs/neurogym_oracle_gonogo.py.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "envs/cognitive/go_no_go.hpp"
#include "envs/vector_env.hpp"
#include "envs/wrappers/env_checker.hpp"
#include "tests/envs/cognitive_test_util.hpp"

using namespace locus::envs;
using locus::envs::testing::TaskRunner;

namespace {

using Obs = std::vector<float>;

Kwargs trial_with(std::int64_t ground_truth) {
  return {{"trial", {{"ground_truth", ground_truth}}}};
}

// Ground truths of the first `trials` trials after reset(seed), read from the stimulus channels
// while never going (each trial then runs its full 15 steps).
std::vector<int> ground_truths(std::uint64_t seed, int trials) {
  TaskRunner runner("GoNoGo-v0");
  Obs obs = runner.reset(seed);
  std::vector<int> out;
  for (int t = 0; t < trials; ++t) {
    out.push_back(obs[2] == 1.0F ? 1 : 0);
    for (int s = 0; s < 15; ++s) {
      runner.step(0);
      obs = runner.observation();
    }
  }
  return out;
}

}  // namespace

TEST_CASE("GoNoGo-v0 is registered with NeuroGym's spaces", "[cognitive][gonogo]") {
  const auto spec = Registry::global().spec("GoNoGo-v0");
  REQUIRE(spec->max_episode_steps == 1000);
  auto env = make("GoNoGo-v0");
  const auto& box = dynamic_cast<const Box&>(env->observation_space());
  REQUIRE(box.shape() == Shape{3});
  REQUIRE(box.dtype() == DType::kFloat32);
  REQUIRE(box.low() == std::vector<double>{0, 0, 0});
  REQUIRE(box.high() == std::vector<double>{1, 1, 1});
  REQUIRE(dynamic_cast<const Discrete&>(env->action_space()).n() == 2);
  GoNoGoEnv raw;
  REQUIRE(raw.dt() == 100.0);
  REQUIRE(raw.rewards().correct == 1.0);
  REQUIRE(raw.rewards().fail == -0.5);
  REQUIRE(raw.rewards().miss == -0.5);
  REQUIRE(raw.rewards().abort == -0.1);
  REQUIRE(raw.rewards().correct_rejection == 0.0);
  REQUIRE(raw.trials_per_episode() == 0);
}

TEST_CASE("GoNoGo-v0 trial layout: 5 stimulus, 5 delay and 5 decision steps",
          "[cognitive][gonogo]") {
  for (const std::int64_t gt : {0, 1}) {
    INFO("ground truth " << gt);
    TaskRunner runner("GoNoGo-v0");
    // No hidden step: the reset observation is step 0 of the trial (stimulus).
    const Obs stimulus = {1.0F, gt == 0 ? 1.0F : 0.0F, gt == 1 ? 1.0F : 0.0F};
    REQUIRE(runner.reset(5, trial_with(gt)) == stimulus);
    REQUIRE(runner.info().get_int("trial") == 0);
    REQUIRE(runner.info().get_int("ground_truth") == gt);
    REQUIRE(runner.info().get_int("target") == 0);
    REQUIRE_FALSE(runner.info().get_bool("trial_ended"));
    REQUIRE_FALSE(runner.info().contains("outcome"));
    // Never go: the trial runs all 15 steps. The observation after step k is step k + 1's.
    for (int step = 0; step < 15; ++step) {
      INFO("step " << step);
      const StepOutcome out = runner.step(0);
      REQUIRE(runner.info().get_int("target") == (step >= 10 ? gt : 0));
      // The trial is described in info when it ends, not on every step (NeuroGym's convention).
      REQUIRE(runner.info().contains("ground_truth") == (step == 14));
      REQUIRE(runner.info().contains("outcome") == (step == 14));
      REQUIRE_FALSE(out.terminated);
      REQUIRE_FALSE(out.truncated);
      if (step < 14) {
        REQUIRE(out.reward == 0.0);
        REQUIRE_FALSE(runner.info().get_bool("trial_ended"));
        const Obs expected = step + 1 < 5    ? stimulus
                             : step + 1 < 10 ? Obs{1.0F, 0.0F, 0.0F}
                                             : Obs{0.0F, 0.0F, 0.0F};
        REQUIRE(runner.observation() == expected);
      } else {
        // A missed Go costs -0.5 at its last step; a withheld No-Go scores 0 and is correct.
        REQUIRE(out.reward == (gt == 1 ? -0.5 : 0.0));
        REQUIRE(runner.info().get_bool("trial_ended"));
        REQUIRE(runner.info().get_string("outcome") == (gt == 1 ? "miss" : "correct_rejection"));
        REQUIRE(runner.info().get_bool("correct") == (gt == 0));
        REQUIRE(runner.info().get_int("ground_truth") == gt);
        REQUIRE(runner.info().get_int("trial") == 0);
        // Endless mode: the next trial has begun, its first step is a stimulus step.
        const Obs next = runner.observation();
        REQUIRE(next[0] == 1.0F);
        REQUIRE(next[1] + next[2] == 1.0F);
      }
    }
    for (int step = 0; step < 15; ++step) runner.step(0);
    REQUIRE(runner.info().get_int("trial") == 1);
  }
}

TEST_CASE("GoNoGo-v0 scripted policies: reward bookkeeping by hand", "[cognitive][gonogo]") {
  // Always go: going before the decision period is ignored; the first decision step ends the
  // trial with +1 on a Go trial (hit) and -0.5 on a No-Go trial (false alarm): 11 steps a trial.
  // Never go: every trial runs 15 steps and ends with -0.5 on a Go trial (miss) and 0 on a No-Go
  // trial (correct rejection). The ground truth is read from the stimulus channels.
  for (const std::int64_t action : {1, 0}) {
    INFO("action " << action);
    TaskRunner runner("GoNoGo-v0");
    Obs obs = runner.reset(11);
    const int length = action == 1 ? 11 : 15;
    int go_trials = 0;
    int nogo_trials = 0;
    double total = 0.0;
    double expected_total = 0.0;
    for (int trial = 0; trial < 60; ++trial) {
      const bool go = obs[2] == 1.0F;
      REQUIRE(obs[1] == (go ? 0.0F : 1.0F));
      (go ? go_trials : nogo_trials) += 1;
      for (int step = 0; step < length; ++step) {
        const StepOutcome out = runner.step(action);
        total += out.reward;
        const bool last = step == length - 1;
        REQUIRE(runner.info().get_bool("trial_ended") == last);
        if (!last) REQUIRE(out.reward == 0.0);
      }
      const double reward = action == 1 ? (go ? 1.0 : -0.5) : (go ? -0.5 : 0.0);
      expected_total += reward;
      const char* outcome =
          action == 1 ? (go ? "hit" : "false_alarm") : (go ? "miss" : "correct_rejection");
      REQUIRE(runner.info().get_string("outcome") == outcome);
      REQUIRE(runner.info().get_bool("correct") == (action == 1 ? go : !go));
      REQUIRE(runner.info().get_int("ground_truth") == (go ? 1 : 0));
      obs = runner.observation();
    }
    REQUIRE(total == expected_total);
    // Both kinds of trial occurred (uniform ground truth).
    REQUIRE(go_trials > 15);
    REQUIRE(nogo_trials > 15);
  }
}

TEST_CASE("GoNoGo-v0 reset(seed) seeds the trials", "[cognitive][gonogo][determinism]") {
  const auto a = ground_truths(3, 40);
  REQUIRE(a == ground_truths(3, 40));
  REQUIRE(a != ground_truths(4, 40));

  // reset() without a seed continues the stream (new trials), reset(seed) replays it.
  TaskRunner runner("GoNoGo-v0");
  std::vector<int> first;
  std::vector<int> again;
  Obs obs = runner.reset(9);
  first.push_back(obs[2] == 1.0F);
  for (int i = 0; i < 30; ++i) first.push_back(runner.reset()[2] == 1.0F);
  REQUIRE(runner.info().get_int("trial") == 30);  // the count continues across unseeded resets
  obs = runner.reset(9);
  REQUIRE(runner.info().get_int("trial") == 0);
  again.push_back(obs[2] == 1.0F);
  for (int i = 0; i < 30; ++i) again.push_back(runner.reset()[2] == 1.0F);
  REQUIRE(first == again);
}

TEST_CASE("GoNoGo-v0 trajectories are deterministic per seed", "[cognitive][gonogo][determinism]") {
  const auto trajectory = [](std::uint64_t seed) {
    TaskRunner runner("GoNoGo-v0", {{"sigma", 0.5}});
    std::vector<double> out;
    for (const float v : runner.reset(seed)) out.push_back(v);
    Space& actions = runner.env().action_space();
    actions.seed(seed);
    std::vector<std::byte> action(actions.packed_bytes());
    for (int t = 0; t < 1500; ++t) {
      actions.sample_packed(action);
      const StepOutcome r = runner.step(as_span<std::int64_t>(std::span(action))[0]);
      for (const float v : runner.observation()) out.push_back(v);
      out.push_back(r.reward);
      out.push_back(r.terminated || r.truncated);
      if (r.terminated || r.truncated) {
        for (const float v : runner.reset()) out.push_back(v);
      }
    }
    return out;
  };
  REQUIRE(trajectory(21) == trajectory(21));
  REQUIRE(trajectory(21) != trajectory(22));
}

TEST_CASE("GoNoGo-v0 one trial per episode", "[cognitive][gonogo]") {
  TaskRunner runner("GoNoGo-v0", {{"trials_per_episode", 1}});
  runner.reset(2, trial_with(1));
  for (int step = 0; step < 10; ++step) REQUIRE_FALSE(runner.step(1).terminated);
  const StepOutcome hit = runner.step(1);
  REQUIRE(hit.terminated);
  REQUIRE_FALSE(hit.truncated);
  REQUIRE(hit.reward == 1.0);
  REQUIRE(runner.info().get_string("outcome") == "hit");
  REQUIRE(runner.observation() == Obs{0.0F, 0.0F, 0.0F});
  // The next episode is the next trial.
  runner.reset();
  REQUIRE(runner.info().get_int("trial") == 1);
  for (int step = 0; step < 14; ++step) REQUIRE_FALSE(runner.step(0).terminated);
  REQUIRE(runner.step(0).terminated);

  TaskRunner three("GoNoGo-v0", {{"trials_per_episode", 3}});
  three.reset(2);
  int steps = 0;
  while (!three.step(0).terminated) ++steps;
  REQUIRE(steps + 1 == 45);
  REQUIRE(three.info().get_int("trial") == 2);
}

TEST_CASE("GoNoGo-v0 queued trial conditions force the ground truths", "[cognitive][gonogo]") {
  GoNoGoEnv raw;
  const std::vector<std::int64_t> forced = {1, 1, 0, 1, 0, 0};
  for (const auto gt : forced) raw.queue_trial({{"ground_truth", gt}});
  REQUIRE(raw.queued_trials() == forced.size());
  std::vector<std::byte> obs(raw.observation_space().packed_bytes());
  std::vector<std::byte> action(raw.action_space().packed_bytes());
  Info info;
  raw.reset(obs, info, 0);
  for (std::size_t trial = 0; trial < forced.size(); ++trial) {
    REQUIRE(raw.ground_truth() == forced[trial]);
    for (int step = 0; step < 15; ++step) raw.step(action, obs, info);
  }
  REQUIRE(raw.queued_trials() == 0);
  REQUIRE_THROWS_WITH(raw.queue_trial({{"ground_truth", 2}}),
                      Catch::Contains("'ground_truth' must be 0 or 1, got 2"));
  REQUIRE_THROWS_WITH(raw.queue_trial({{"gt", 1}}),
                      Catch::Contains("unknown argument 'gt'") && Catch::Contains("ground_truth"));
}

TEST_CASE("GoNoGo-v0 dt and timing", "[cognitive][gonogo]") {
  SECTION("dt 50 doubles the steps") {
    GoNoGoEnv env(Kwargs{{"dt", 50}});
    env.reset(0);
    REQUIRE(env.timeline().length() == 30);
  }
  SECTION("durations are floored to whole steps, as NeuroGym's (t // dt) * dt") {
    GoNoGoEnv env(Kwargs{{"timing", {{"stimulus", 590}, {"delay", 0}, {"decision", 250}}}});
    env.reset(0);
    REQUIRE(env.timeline().length() == 5 + 0 + 2);
    REQUIRE(python_floor_divide(590, 100) == 5);
    REQUIRE(python_floor_divide(0.3, 0.1) == 2);  // Python's 0.3 // 0.1
    REQUIRE(python_floor_divide(-1, 100) == -1);
  }
  SECTION("random durations are drawn per trial from np_random()") {
    GoNoGoEnv env(
        Kwargs{{"timing", {{"delay", {"uniform", {200, 800}}}, {"stimulus", {300, 500}}}}});
    env.reset(1);
    std::vector<std::int64_t> lengths;
    std::vector<std::byte> action(8);
    std::vector<std::byte> obs(env.observation_space().packed_bytes());
    Info info;
    for (int t = 0; t < 40; ++t) {
      lengths.push_back(env.timeline().length());
      REQUIRE(env.timeline().length() >= 3 + 2 + 5);
      REQUIRE(env.timeline().length() <= 5 + 8 + 5);
      const std::int64_t trial = env.trial_index();
      while (env.trial_index() == trial) env.step(action, obs, info);
    }
    std::sort(lengths.begin(), lengths.end());
    REQUIRE(lengths.front() < lengths.back());
  }
  SECTION("a truncated exponential stays within its bounds") {
    GoNoGoEnv env(Kwargs{{"timing", {{"delay", {"truncated_exponential", {600, 300, 1000}}}}}});
    env.reset(3);
    std::vector<std::byte> action(8);
    std::vector<std::byte> obs(env.observation_space().packed_bytes());
    Info info;
    for (int t = 0; t < 40; ++t) {
      const std::int64_t delay = env.timeline().end(2) - env.timeline().start(2);
      REQUIRE(delay >= 3);
      REQUIRE(delay <= 9);
      const std::int64_t trial = env.trial_index();
      while (env.trial_index() == trial) env.step(action, obs, info);
    }
  }
}

TEST_CASE("GoNoGo-v0 fixation period and abort", "[cognitive][gonogo]") {
  SECTION("abort ends the trial") {
    TaskRunner runner("GoNoGo-v0", {{"timing", {{"fixation", 200}}}, {"abort", true}});
    REQUIRE(runner.reset(0, trial_with(1)) == Obs{1.0F, 0.0F, 0.0F});  // fixation: no stimulus
    const StepOutcome out = runner.step(1);
    REQUIRE(out.reward == Approx(-0.1).epsilon(1e-15));
    REQUIRE(runner.info().get_string("outcome") == "aborted");
    REQUIRE_FALSE(runner.info().get_bool("correct"));
    REQUIRE(runner.info().get_int("trial") == 0);
    // The next trial (no abort now) runs its 17 steps; its end reports trial 1.
    for (int step = 0; step < 17; ++step) runner.step(0);
    REQUIRE(runner.info().get_bool("trial_ended"));
    REQUIRE(runner.info().get_int("trial") == 1);
  }
  SECTION("without abort a go costs the abort reward and the trial goes on") {
    TaskRunner runner("GoNoGo-v0", {{"timing", {{"fixation", 200}}}});
    runner.reset(0, trial_with(1));
    REQUIRE(runner.step(1).reward == Approx(-0.1).epsilon(1e-15));
    REQUIRE_FALSE(runner.info().get_bool("trial_ended"));
    REQUIRE(runner.observation() == Obs{1.0F, 0.0F, 0.0F});
    REQUIRE(runner.step(0).reward == 0.0);
    REQUIRE(runner.observation() == Obs{1.0F, 0.0F, 1.0F});  // the stimulus begins
  }
}

TEST_CASE("GoNoGo-v0 observation noise", "[cognitive][gonogo]") {
  GoNoGoEnv env(Kwargs{{"sigma", 1.0}});
  REQUIRE(env.noise_std() == Approx(0.1));  // sigma / sqrt(dt), as NeuroGym
  const auto& box = dynamic_cast<const Box&>(env.observation_space());
  REQUIRE_FALSE(box.is_bounded());
  std::vector<std::byte> obs(env.observation_space().packed_bytes());
  std::vector<std::byte> action(8);
  Info info;
  env.reset(obs, info, 4);
  // Noise on the nogo/go channels during the stimulus only; fixation and other periods exact.
  double sum = 0.0;
  double sum_sq = 0.0;
  int count = 0;
  for (int t = 0; t < 15000; ++t) {
    const auto o = as_span<float>(std::span(obs));
    const bool stimulus = env.timeline().period() == 1;
    REQUIRE((o[0] == 0.0F || o[0] == 1.0F));
    if (stimulus) {
      const double gt = static_cast<double>(env.ground_truth());
      for (const double e : {o[1] - (1.0 - gt), o[2] - gt}) {
        sum += e;
        sum_sq += e * e;
        ++count;
      }
    } else {
      REQUIRE(o[1] == 0.0F);
      REQUIRE(o[2] == 0.0F);
    }
    env.step(action, obs, info);
  }
  const double mean = sum / count;
  const double std = std::sqrt(sum_sq / count - mean * mean);
  REQUIRE(count > 9000);
  REQUIRE(std::abs(mean) < 0.005);  // 5 standard errors of the mean
  REQUIRE(std == Approx(0.1).epsilon(0.03));
}

TEST_CASE("GoNoGo-v0 observations stay in the observation space", "[cognitive][gonogo][bounds]") {
  for (const Kwargs& kwargs :
       {Kwargs::object(), Kwargs{{"sigma", 2.0}},
        Kwargs{{"trials_per_episode", 1}, {"timing", {{"fixation", 100}}}}}) {
    INFO(kwargs.dump());
    auto env = make("GoNoGo-v0", kwargs);
    Space& space = env->observation_space();
    std::vector<std::byte> obs(space.packed_bytes());
    std::vector<std::byte> action(env->action_space().packed_bytes());
    Info info;
    env->reset(obs, info, 8);
    env->action_space().seed(8);
    for (int t = 0; t < 3000; ++t) {
      env->action_space().sample_packed(action);
      const StepOutcome out = env->step(action, obs, info);
      REQUIRE(space.contains_packed(obs));
      for (const float v : as_span<float>(std::span(obs))) REQUIRE(std::isfinite(v));
      REQUIRE(std::isfinite(out.reward));
      if (out.terminated || out.truncated) env->reset(obs, info);
    }
  }
}

TEST_CASE("GoNoGo-v0 passes the env checker", "[cognitive][gonogo][checker]") {
  for (const Kwargs& kwargs :
       {Kwargs::object(), Kwargs{{"sigma", 1.0}}, Kwargs{{"trials_per_episode", 1}},
        Kwargs{{"timing", {{"delay", {"uniform", {100, 900}}}}}}}) {
    INFO(kwargs.dump());
    GoNoGoEnv raw(kwargs);
    const CheckResult result = check_env(raw, {.steps = 400});
    REQUIRE(result.steps == 400);
    auto made = make("GoNoGo-v0", kwargs);
    REQUIRE_NOTHROW(check_env(*made, {.steps = 400}));
  }
}

TEST_CASE("GoNoGo-v0 in a VectorEnv: env i is seeded with seed + i",
          "[cognitive][gonogo][vector]") {
  constexpr std::size_t kEnvs = 5;
  std::vector<std::vector<float>> results;
  for (const std::size_t threads : {1, 2}) {
    VectorEnv vec = make_vec("GoNoGo-v0", kEnvs, Kwargs::object(), {.num_threads = threads});
    vec.reset(30);
    std::vector<float> trace;
    std::vector<std::int64_t> actions(kEnvs);
    for (int t = 0; t < 200; ++t) {
      for (std::size_t i = 0; i < kEnvs; ++i) actions[i] = (t + static_cast<int>(i)) % 3 == 0;
      vec.step(actions);
      for (const float v : vec.observations<float>()) trace.push_back(v);
      for (const double r : vec.rewards()) trace.push_back(static_cast<float>(r));
    }
    results.push_back(trace);
    // The same as single envs seeded 30 + i.
    for (std::size_t i = 0; i < kEnvs; ++i) {
      TaskRunner single("GoNoGo-v0");
      single.reset(30 + i);
      for (int t = 0; t < 200; ++t) single.step((t + static_cast<int>(i)) % 3 == 0);
      const auto vec_obs = vec.observations<float>().subspan(3 * i, 3);
      REQUIRE(single.observation() == std::vector<float>(vec_obs.begin(), vec_obs.end()));
    }
  }
  REQUIRE(results[0] == results[1]);
}

TEST_CASE("GoNoGo-v0 rejects bad arguments with clear errors", "[cognitive][gonogo][errors]") {
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {{"sigmaa", 1}}),
                      Catch::Contains("unknown argument 'sigmaa'") && Catch::Contains("sigma"));
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {{"dt", 0}}),
                      Catch::Contains("'dt' must be a positive number"));
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {{"sigma", -1}}),
                      Catch::Contains("'sigma' must be a finite non-negative number"));
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {{"timing", {{"test", 100}}}}),
                      Catch::Contains("unknown period 'test'") &&
                          Catch::Contains("fixation, stimulus, delay, decision"));
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {{"timing", {{"delay", {"gamma", {1, 2}}}}}}),
                      Catch::Contains("unknown distribution 'gamma'"));
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {{"timing", {{"delay", -5}}}}),
                      Catch::Contains("non-negative"));
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {{"timing", {{"decision", 50}}}}),
                      Catch::Contains("decision period must last at least one step"));
  REQUIRE_THROWS_WITH(
      make("GoNoGo-v0", {{"rewards", {{"bonus", 1}}}}),
      Catch::Contains("unknown argument 'bonus'") && Catch::Contains("correct_rejection"));
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {{"trials_per_episode", -1}}),
                      Catch::Contains("'trials_per_episode' must be 0"));
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {{"abort", 1}}),
                      Catch::Contains("'abort' must be true or false"));
  auto env = make("GoNoGo-v0");
  // Options it does not read are ignored, as Gymnasium's envs ignore them.
  REQUIRE_NOTHROW(env->reset(0, {{"seed", 1}}));
  REQUIRE_THROWS_WITH(env->reset(0, {{"trial", {{"ground_truth", -1}}}}),
                      Catch::Contains("'ground_truth' must be 0 or 1"));
}
