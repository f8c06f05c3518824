// The cognitive tasks' text rendering (render_mode "ansi"): one line per reset or step.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "envs/cognitive/go_no_go.hpp"
#include "envs/errors.hpp"
#include "envs/wrappers/env_checker.hpp"
#include "tests/envs/cognitive_test_util.hpp"
#include "tests/envs/warning_capture.hpp"

namespace {

using namespace locus::envs;
using locus::envs::testing::TaskRunner;
using locus::envs::testing::WarningCapture;

const Kwargs kAnsi = {{"render_mode", "ansi"}};

}  // namespace

TEST_CASE("GoNoGo renders one line per step in render mode ansi", "[cognitive][render]") {
  TaskRunner run("GoNoGo-v0", kAnsi);
  REQUIRE(run.env().render_mode() == std::optional<std::string>("ansi"));
  REQUIRE(run.env().metadata().render_modes == std::vector<std::string>{"ansi"});
  REQUIRE(run.env().metadata().render_fps == 10.0);  // dt 100 ms

  // A Go trial: stimulus t=0..4 shows [1, 0, 1], delay t=5..9 [1, 0, 0], decision t=10..14 zeros.
  run.reset(1, {{"trial", {{"ground_truth", 1}}}});
  REQUIRE(run.env().render() == "trial 0 t=0 stimulus  reset -> obs [1.00 0.00 1.00]\n");
  run.step(1);  // a go before the decision period is ignored
  REQUIRE(run.env().render() ==
          "trial 0 t=0 stimulus  action 1 reward +0.00 -> obs [1.00 0.00 1.00]\n");
  for (int t = 1; t < 5; ++t) run.step(0);
  REQUIRE(run.env().render() ==
          "trial 0 t=4 stimulus  action 0 reward +0.00 -> obs [1.00 0.00 0.00]\n");
  run.step(0);
  // Period names are padded to the longest ("stimulus", "decision"), so the columns line up.
  REQUIRE(run.env().render() ==
          "trial 0 t=5 delay     action 0 reward +0.00 -> obs [1.00 0.00 0.00]\n");
  for (int t = 6; t < 10; ++t) run.step(0);
  REQUIRE(run.step(1).reward == 1.0);
  const std::string hit = run.env().render();
  // The next trial's first observation depends on its drawn ground truth.
  REQUIRE(hit.rfind("trial 0 t=10 decision  action 1 reward +1.00 -> obs [1.00 ", 0) == 0);
  REQUIRE(hit.find("] | hit (trial 1 begins)\n") != std::string::npos);
}

TEST_CASE("rendering ends an episode's last line with its end", "[cognitive][render]") {
  TaskRunner run("GoNoGo-v0", {{"render_mode", "ansi"}, {"trials_per_episode", 1}});
  run.reset(2, {{"trial", {{"ground_truth", 0}}}});
  StepOutcome outcome;
  for (int t = 0; t < 15; ++t) outcome = run.step(0);
  REQUIRE(outcome.terminated);
  REQUIRE(run.env().render() ==
          "trial 0 t=14 decision  action 0 reward +0.00 -> obs [0.00 0.00 0.00] | "
          "correct_rejection (episode ends)\n");
}

TEST_CASE("every timed cognitive task renders and passes the env checker", "[cognitive][render]") {
  for (const char* id : {"GoNoGo-v0", "SetShiftGoNoGo-v0", "PerceptualDecisionMaking-v0",
                         "DelayMatchSample-v0", "ContextDecisionMaking-v0"}) {
    INFO(id);
    auto env = make(id, kAnsi);
    env->reset(4);
    const std::string line = env->render();
    REQUIRE(line.rfind("trial 0 t=0 ", 0) == 0);
    REQUIRE(line.find(" reset -> obs [") != std::string::npos);
    REQUIRE(line.back() == '\n');
    REQUIRE(std::count(line.begin(), line.end(), '\n') == 1);
    // check_env also makes a fresh env in every declared render mode and renders it.
    const CheckResult result = check_env(*env);
    REQUIRE(result.steps > 0);
  }
}

TEST_CASE("rendering does not change a task's trajectory", "[cognitive][render]") {
  TaskRunner plain("PerceptualDecisionMaking-v0", {{"sigma", 1.0}});
  TaskRunner rendered("PerceptualDecisionMaking-v0", {{"sigma", 1.0}, {"render_mode", "ansi"}});
  REQUIRE(plain.reset(9) == rendered.reset(9));
  Rng actions(1);
  for (int t = 0; t < 300; ++t) {
    const std::int64_t action = actions.integers(3);
    const StepOutcome a = plain.step(action);
    const StepOutcome b = rendered.step(action);
    REQUIRE(a.reward == b.reward);
    REQUIRE(a.terminated == b.terminated);
    REQUIRE(plain.observation() == rendered.observation());
    REQUIRE(plain.info() == rendered.info());
  }
}

TEST_CASE("a cognitive task refuses other render modes and warns without one",
          "[cognitive][render]") {
  REQUIRE_THROWS_AS(make("GoNoGo-v0", {{"render_mode", "human"}}), InvalidArgumentError);
  // The error every env gives for a render mode it lacks (Python raises it as a TypeError too,
  // which Stable-Baselines3's make_vec_env needs to retry without "rgb_array").
  for (const char* id :
       {"GoNoGo-v0", "SetShiftGoNoGo-v0", "ReversalBandit-v0", "PerceptualDecisionMaking-v0",
        "DelayMatchSample-v0", "ContextDecisionMaking-v0"}) {
    INFO(id);
    REQUIRE_THROWS_AS(make(id, {{"render_mode", "rgb_array"}}), UnsupportedRenderModeError);
  }
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {{"render_mode", "human"}}),
                      Catch::Contains("'render_mode' must be \"ansi\" or null, got \"human\""));
  REQUIRE_THROWS_WITH(make("GoNoGo-v0", {}, {.render_mode = "rgb_array"}),
                      Catch::Contains("got \"rgb_array\""));

  GoNoGoEnv env;
  env.reset(0);
  std::string frame;
  {
    WarningCapture capture;
    frame = env.render();
  }
  REQUIRE(frame.empty());
  REQUIRE(WarningCapture::messages().size() == 1);
  REQUIRE(WarningCapture::messages()[0].find("without a render mode") != std::string::npos);
}

TEST_CASE("ReversalBandit renders one line per pull in render mode ansi", "[cognitive][render]") {
  TaskRunner run("ReversalBandit-v0", {{"render_mode", "ansi"}, {"block_length", 2}});
  REQUIRE(run.env().metadata().render_fps == 10.0);
  run.reset(0);
  REQUIRE(run.env().render() == "trial 0 block 0 p [0.80 0.20] reset -> obs [0.00 0.00 0.00]\n");
  const double first = run.step(1).reward;
  char expected[128];
  std::snprintf(expected, sizeof(expected),
                "trial 0 block 0 p [0.80 0.20] arm 1 reward %+.2f (not best) -> obs [%.2f 0.00 "
                "1.00]\n",
                first, first);
  REQUIRE(run.env().render() == expected);
  // The second pull ends the block: the line shows the probabilities it was made under.
  const double second = run.step(0).reward;
  std::snprintf(expected, sizeof(expected),
                "trial 1 block 0 p [0.80 0.20] arm 0 reward %+.2f (best) -> obs [%.2f 1.00 0.00] "
                "| reversal\n",
                second, second);
  REQUIRE(run.env().render() == expected);
  run.step(0);
  REQUIRE(run.env().render().rfind("trial 2 block 1 p [0.20 0.80] arm 0 ", 0) == 0);

  auto checked = make("ReversalBandit-v0", kAnsi);
  REQUIRE(check_env(*checked).steps > 0);
  REQUIRE_THROWS_WITH(make("ReversalBandit-v0", {{"render_mode", "human"}}),
                      Catch::Contains("'render_mode' must be \"ansi\" or null, got \"human\""));
}
