// SetShiftGoNoGo-v0: the stimulus layout, the rule (which stimulus is rewarded), the switches after
// a trial count or a run of correct trials (reversal and extradimensional), their limit, the rule
// surviving unseeded resets and restarting on seeded ones, and the usual determinism, bounds,
// checker and error checks.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "envs/cognitive/go_no_go.hpp"
#include "envs/wrappers/env_checker.hpp"
#include "tests/envs/cognitive_test_util.hpp"

using namespace locus::envs;
using locus::envs::testing::kNoTimeLimit;
using locus::envs::testing::TaskRunner;

namespace {

using Obs = std::vector<float>;

// Which of A, B, X, Y the stimulus observation shows (two of them, one per pair).
bool shown(const Obs& obs, int stimulus) {
  return obs[1 + static_cast<std::size_t>(stimulus)] == 1.0F;
}

// A player that knows the rule: it goes in the decision period when the rewarded stimulus was shown
// and withholds otherwise, so every trial is answered correctly. Returns the trial's reward.
struct Player {
  TaskRunner& runner;
  int rule;  // what it believes is rewarded
  // Plays one trial from its first step; `obs` is that step's observation.
  double play(Obs& obs) {
    const bool go = shown(obs, rule);
    double total = 0.0;
    for (;;) {
      const bool deciding = obs[0] == 0.0F;
      const StepOutcome out = runner.step(deciding && go ? 1 : 0);
      total += out.reward;
      obs = runner.observation();
      if (runner.info().get_bool("trial_ended")) return total;
    }
  }
};

int rule_index(const std::string& name) {
  for (std::size_t i = 0; i < SetShiftGoNoGoEnv::kStimulusNames.size(); ++i) {
    if (SetShiftGoNoGoEnv::kStimulusNames[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

TEST_CASE("SetShiftGoNoGo-v0 shows one visual and one auditory stimulus", "[cognitive][setshift]") {
  // Rule A throughout; 200 trials outlast the registered time limit.
  TaskRunner runner("SetShiftGoNoGo-v0", {{"switch_after_trials", 0}}, kNoTimeLimit);
  auto& env = dynamic_cast<SetShiftGoNoGoEnv&>(runner.env().unwrapped());
  REQUIRE(runner.env().observation_space().to_string() == "Box(0.0, 1.0, (5,), float32)");
  Obs obs = runner.reset(3, {{"trial", {{"visual", 1}, {"auditory", 0}}}});
  REQUIRE(obs == Obs{1.0F, 0.0F, 1.0F, 1.0F, 0.0F});  // fixation, B and X
  REQUIRE(runner.info().get_string("rule") == "A");
  REQUIRE(runner.info().get_int("visual") == 1);
  REQUIRE(runner.info().get_int("auditory") == 0);
  REQUIRE(runner.info().get_int("ground_truth") == 0);  // A is rewarded and not shown: No-Go
  REQUIRE(env.rule() == 0);
  // Over many trials each pair shows each member, independently.
  int counts[4] = {0, 0, 0, 0};
  int go_trials = 0;
  for (int trial = 0; trial < 200; ++trial) {
    for (int s = 0; s < 4; ++s) counts[s] += shown(obs, s);
    REQUIRE(shown(obs, 0) != shown(obs, 1));
    REQUIRE(shown(obs, 2) != shown(obs, 3));
    go_trials += shown(obs, 0);
    for (int step = 0; step < 15; ++step) runner.step(0);
    REQUIRE(runner.info().get_int("ground_truth") == (shown(obs, 0) ? 1 : 0));
    obs = runner.observation();
  }
  for (const int c : counts) REQUIRE(c > 70);
  REQUIRE(go_trials > 70);
}

TEST_CASE("SetShiftGoNoGo-v0 reward follows the rule", "[cognitive][setshift]") {
  // Rule X: going is right exactly when X was heard, whatever was seen.
  TaskRunner runner("SetShiftGoNoGo-v0", {{"rule", "X"}, {"switch_after_trials", 0}});
  Obs obs = runner.reset(1);
  for (int trial = 0; trial < 80; ++trial) {
    const bool x = shown(obs, 2);
    // Always go: +1 when X was shown (hit), -0.5 otherwise (false alarm).
    double total = 0.0;
    while (true) {
      total += runner.step(1).reward;
      if (runner.info().get_bool("trial_ended")) break;
    }
    REQUIRE(total == (x ? 1.0 : -0.5));
    REQUIRE(runner.info().get_string("outcome") == (x ? "hit" : "false_alarm"));
    obs = runner.observation();
  }
}

TEST_CASE("SetShiftGoNoGo-v0 switches the rule after a number of trials",
          "[cognitive][setshift][flip]") {
  for (const std::string shift : {"reversal", "extradimensional"}) {
    INFO(shift);
    TaskRunner runner("SetShiftGoNoGo-v0",
                      {{"switch_after_trials", 10}, {"shift", shift}, {"max_switches", 3}});
    Obs obs = runner.reset(5);
    Player player{runner, 0};
    const std::vector<std::string> rules = shift == "reversal"
                                               ? std::vector<std::string>{"A", "B", "A", "B"}
                                               : std::vector<std::string>{"A", "X", "A", "X"};
    for (int trial = 0; trial < 60; ++trial) {
      const std::size_t block = std::min<std::size_t>(static_cast<std::size_t>(trial / 10), 3);
      player.rule = rule_index(rules[block]);
      const double reward = player.play(obs);
      const Info& info = runner.info();
      REQUIRE(info.get_string("rule") == rules[block]);
      REQUIRE(info.get_bool("correct"));  // the player follows the right rule
      REQUIRE(reward >= 0.0);
      // The 10th, 20th and 30th trials switch; the limit of 3 stops the rest.
      const bool switches = (trial + 1) % 10 == 0 && trial < 30;
      REQUIRE(info.get_bool("rule_switched") == switches);
      REQUIRE(info.get_int("switches") == std::min((trial + 1) / 10, 3));
      REQUIRE(info.get_int("trials_since_switch") == (trial < 30 ? (trial + 1) % 10 : trial - 29));
    }
    const auto& env = dynamic_cast<const SetShiftGoNoGoEnv&>(runner.env().unwrapped());
    REQUIRE(env.switches() == 3);
  }
}

TEST_CASE("SetShiftGoNoGo-v0 an agent that keeps the old rule fails after the switch",
          "[cognitive][setshift][flip]") {
  TaskRunner runner("SetShiftGoNoGo-v0", {{"switch_after_trials", 20}, {"max_switches", 1}});
  Obs obs = runner.reset(8);
  Player stubborn{runner, 0};  // always plays rule A
  int wrong_before = 0;
  int wrong_after = 0;
  for (int trial = 0; trial < 60; ++trial) {
    stubborn.play(obs);
    const bool correct = runner.info().get_bool("correct");
    (trial < 20 ? wrong_before : wrong_after) += correct ? 0 : 1;
  }
  REQUIRE(wrong_before == 0);
  // After the reversal to B every trial shows exactly one of A and B, so rule A is always wrong.
  REQUIRE(wrong_after == 40);
}

TEST_CASE("SetShiftGoNoGo-v0 switches when the criterion is reached",
          "[cognitive][setshift][flip]") {
  TaskRunner runner(
      "SetShiftGoNoGo-v0",
      {{"switch_after_trials", 0}, {"switch_after_correct", 6}, {"max_switches", -1}});
  Obs obs = runner.reset(12);
  Player player{runner, 0};
  // A run broken by a mistake starts over: err on trials 3 and 9.
  for (int trial = 0; trial < 30; ++trial) {
    const bool err = trial == 3 || trial == 9;
    // The rule stays visual (A <-> B) and one of A, B is shown every trial, so playing the other
    // member of the pair is wrong every time.
    const int rule = dynamic_cast<const SetShiftGoNoGoEnv&>(runner.env().unwrapped()).rule();
    player.rule = err ? (rule ^ 1) : rule;
    player.play(obs);
    const Info& info = runner.info();
    REQUIRE(info.get_bool("correct") == !err);
    // Mistakes at 3 and 9: runs of correct trials are 4..8 (5 long) and 10..15 (the first 6).
    REQUIRE(info.get_bool("rule_switched") == (trial == 15 || trial == 21 || trial == 27));
  }
  const auto& env = dynamic_cast<const SetShiftGoNoGoEnv&>(runner.env().unwrapped());
  REQUIRE(env.switches() == 3);
  REQUIRE(env.rule() == 1);  // A -> B -> A -> B
}

TEST_CASE("SetShiftGoNoGo-v0 the rule is the experiment's: unseeded resets keep it",
          "[cognitive][setshift][flip]") {
  TaskRunner runner("SetShiftGoNoGo-v0", {{"trials_per_episode", 1}, {"switch_after_trials", 3}});
  auto& env = dynamic_cast<SetShiftGoNoGoEnv&>(runner.env().unwrapped());
  runner.reset(4);
  std::vector<std::string> rules;
  for (int episode = 0; episode < 7; ++episode) {
    if (episode > 0) runner.reset();
    rules.push_back(runner.info().get_string("rule"));
    while (!runner.step(0).terminated) {
    }
  }
  REQUIRE(rules == std::vector<std::string>{"A", "A", "A", "B", "B", "B", "A"});
  REQUIRE(env.switches() == 2);
  runner.reset(4);  // a seeded reset starts the experiment over
  REQUIRE(runner.info().get_string("rule") == "A");
  REQUIRE(runner.info().get_int("switches") == 0);
  REQUIRE(env.switches() == 0);
}

TEST_CASE("SetShiftGoNoGo-v0 determinism, bounds and the env checker",
          "[cognitive][setshift][determinism]") {
  const auto trace = [](std::uint64_t seed) {
    TaskRunner runner("SetShiftGoNoGo-v0", {{"switch_after_trials", 5}, {"sigma", 0.3}});
    std::vector<float> out = runner.reset(seed);
    runner.env().action_space().seed(seed);
    for (int t = 0; t < 2000; ++t) {
      const Value a = runner.env().action_space().sample();
      const StepOutcome r = runner.step(a.array().as<std::int64_t>()[0]);
      const std::vector<float> obs = runner.observation();
      REQUIRE(runner.env().observation_space().contains_packed(std::as_bytes(std::span(obs))));
      for (const float v : runner.observation()) out.push_back(v);
      out.push_back(static_cast<float>(r.reward));
      if (r.terminated || r.truncated) {
        for (const float v : runner.reset()) out.push_back(v);
      }
    }
    return out;
  };
  REQUIRE(trace(1) == trace(1));
  REQUIRE(trace(1) != trace(2));
  for (const Kwargs& kwargs : {Kwargs::object(), Kwargs{{"trials_per_episode", 1}},
                               Kwargs{{"sigma", 1.0}, {"shift", "extradimensional"}}}) {
    INFO(kwargs.dump());
    SetShiftGoNoGoEnv raw(kwargs);
    REQUIRE(check_env(raw, {.steps = 400}).steps == 400);
    auto made = make("SetShiftGoNoGo-v0", kwargs);
    REQUIRE_NOTHROW(check_env(*made, {.steps = 400}));
  }
}

TEST_CASE("SetShiftGoNoGo-v0 rejects bad arguments", "[cognitive][setshift][errors]") {
  REQUIRE_THROWS_WITH(make("SetShiftGoNoGo-v0", {{"rule", "C"}}),
                      Catch::Contains("'rule' must be \"A\", \"B\"") && Catch::Contains("\"C\""));
  REQUIRE_THROWS_WITH(make("SetShiftGoNoGo-v0", {{"shift", "intradimensional"}}),
                      Catch::Contains("'shift' must be \"reversal\" or \"extradimensional\""));
  REQUIRE_THROWS_WITH(make("SetShiftGoNoGo-v0", {{"switch_after_trials", -2}}),
                      Catch::Contains("must be non-negative"));
  REQUIRE_THROWS_WITH(make("SetShiftGoNoGo-v0", {{"max_switches", -3}}),
                      Catch::Contains("'max_switches' must be -1 (no limit) or >= 0, got -3"));
  auto env = make("SetShiftGoNoGo-v0");
  REQUIRE_THROWS_WITH(env->reset(0, {{"trial", {{"visual", 2}}}}),
                      Catch::Contains("'visual' must be 0 or 1, got 2"));
  REQUIRE_THROWS_WITH(
      env->reset(0, {{"trial", {{"ground_truth", 1}}}}),
      Catch::Contains("unknown argument 'ground_truth'") && Catch::Contains("visual, auditory"));
}
