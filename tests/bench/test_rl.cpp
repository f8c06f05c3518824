// RL continual sequences: the RlLearner (agents as bench::Learner) switches tasks, keeps one
// context per task when told, scores tasks by success rate or normalized return, and evaluating
// never changes training (bit-identical parameters and losses); RL sweep configs and their errors.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "agents/runner.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/rl.hpp"
#include "bench/harness/sweep.hpp"
#include "tests/util/fresh_dir.hpp"

using namespace locus::bench;
using Catch::Matchers::Contains;
using nlohmann::json;
namespace agents = locus::agents;
namespace fs = std::filesystem;
using locus::testing::fresh_dir;

namespace {

// Two CartPole tasks (the second with a pole twice as long), a small A2C agent.
RlConfig cartpole_config(agents::Algorithm algorithm, agents::Modulation modulation,
                         agents::NetworkMode network, agents::ContextPolicy contexts) {
  RlConfig c;
  c.scenario = RlScenario::from_json({{"kind", "rl"},
                                      {"tasks", {"CartPole-v1", "CartPoleLongPole-v1"}},
                                      {"score", "return"},
                                      {"eval_episodes", 4},
                                      {"eval_seed", 77}});
  c.agent.agent = algorithm;
  c.agent.modulation = modulation;
  c.agent.network = network;
  c.agent.contexts = contexts;
  c.agent.hidden = {16};
  c.agent.num_envs = 4;
  c.agent.rollout_steps = 8;
  c.agent.minibatches = 2;
  c.agent.ppo_epochs = 2;
  c.agent.learning_rate = 3e-3f;
  c.agent.seed = 11;
  return c;
}

// GoNoGo then SetShiftGoNoGo (observations 3 and 5 wide), one trial per episode, 16 frames.
RlConfig go_no_go_config() {
  RlConfig c;
  c.scenario = RlScenario::from_json(
      {{"kind", "rl"},
       {"tasks",
        {"GoNoGo-v0", {{"id", "SetShiftGoNoGo-v0"}, {"kwargs", {{"switch_after_trials", 0}}}}}},
       {"env_kwargs", {{"trials_per_episode", 1}}},
       {"score", "success"},
       {"eval_episodes", 8}});
  c.agent.hidden = {16};
  c.agent.num_envs = 4;
  c.agent.rollout_steps = 15;
  c.agent.frame_stack = 15;
  c.agent.seed = 2;
  return c;
}

struct Trace {
  std::vector<double> losses;
  std::vector<float> parameters;
  std::vector<double> gains;
};

// Trains 2 tasks x 4 updates; with `evaluate`, evaluates every task after every update.
Trace train(const RlConfig& config, bool evaluate) {
  RlLearner learner(config);
  Trace trace;
  for (std::int64_t task = 0; task < 2; ++task) {
    if (evaluate) learner.evaluate(1 - task);
    learner.begin_task(task);
    for (int u = 0; u < 4; ++u) {
      trace.losses.push_back(learner.train_step().loss);
      if (const auto g = learner.gain()) trace.gains.push_back(*g);
      if (evaluate) {
        for (std::int64_t j = 0; j < 2; ++j) learner.evaluate(j);
      }
    }
  }
  trace.parameters = agents::flat_parameters(learner.agent().network());
  return trace;
}

}  // namespace

TEST_CASE("evaluating an RL learner leaves its training bit-identical", "[rl][determinism]") {
  using agents::Algorithm, agents::Modulation, agents::NetworkMode, agents::ContextPolicy;
  const std::vector<RlConfig> configs = {
      cartpole_config(Algorithm::kA2c, Modulation::kNone, NetworkMode::kTrainable,
                      ContextPolicy::kFixed),
      cartpole_config(Algorithm::kPpo, Modulation::kDopamine, NetworkMode::kTrainable,
                      ContextPolicy::kFixed),
      cartpole_config(Algorithm::kA2c, Modulation::kDopamineNoradrenaline, NetworkMode::kModulated,
                      ContextPolicy::kTaskId),
      cartpole_config(Algorithm::kReinforce, Modulation::kDopamineNoradrenaline,
                      NetworkMode::kModulated, ContextPolicy::kOnChange),
  };
  for (const auto& config : configs) {
    INFO(config.agent.to_json().dump());
    const Trace plain = train(config, false);
    const Trace evaluated = train(config, true);
    CHECK(plain.losses == evaluated.losses);
    CHECK(plain.parameters == evaluated.parameters);
    CHECK(plain.gains == evaluated.gains);
    CHECK(!plain.parameters.empty());
  }
  // The da+na learner reports its noradrenaline gain; the others have none.
  CHECK(train(configs[2], false).gains.size() == 8);
  CHECK(train(configs[0], false).gains.empty());
}

TEST_CASE("the harness over an RL learner: evaluated every update or once per task, same run",
          "[rl][determinism]") {
  const RlConfig config =
      cartpole_config(agents::Algorithm::kA2c, agents::Modulation::kDopamine,
                      agents::NetworkMode::kTrainable, agents::ContextPolicy::kFixed);
  RlLearner often(config), rarely(config);
  const ContinualRecord a = run_continual(often, {.iterations_per_task = 5, .eval_every = 1});
  const ContinualRecord b = run_continual(rarely, {.iterations_per_task = 5, .eval_every = 100});
  CHECK(a.iterations.size() == 11);  // t = 0 and every update
  CHECK(b.iterations.size() == 3);   // t = 0 and the two block ends
  CHECK(a.matrix == b.matrix);
  CHECK(agents::flat_parameters(often.agent().network()) ==
        agents::flat_parameters(rarely.agent().network()));
  CHECK(a.train_samples == 10 * 4 * 8);
  // Normalized CartPole return: at least one step of 500, at most all of them.
  for (const auto& row : a.matrix) {
    for (const double v : row) {
      CHECK(v >= 1.0 / 500.0);
      CHECK(v <= 1.0);
    }
  }
  // The same fixed episodes each time: evaluating twice in a row gives the same score.
  CHECK(often.evaluate(0) == often.evaluate(0));
}

TEST_CASE("begin_task shows the agent the new task", "[rl]") {
  RlLearner learner(go_no_go_config());
  auto extra_channels = [&] {
    // GoNoGo fills channels 0-2 (padded with zeros to 5); SetShiftGoNoGo shows one visual (A/B,
    // channels 1-2) and one auditory (X/Y, channels 3-4) stimulus at a trial's first step.
    const auto obs = learner.agent().env().observations<float>();
    double sum = 0.0;
    for (std::size_t i = 0; i < learner.agent().env().num_envs(); ++i) {
      sum += obs[i * 5 + 3] + obs[i * 5 + 4];
    }
    return sum;
  };
  learner.begin_task(0);
  CHECK(extra_channels() == 0.0);
  learner.train_step();
  learner.begin_task(1);
  CHECK(extra_channels() == 4.0);  // every env starts a SetShift trial
  const double success = learner.evaluate(1);
  CHECK(success >= 0.0);
  CHECK(success <= 1.0);
}

TEST_CASE("one context per task: training task 2 leaves task 1's score exactly", "[rl][contexts]") {
  RlConfig config =
      cartpole_config(agents::Algorithm::kA2c, agents::Modulation::kDopamine,
                      agents::NetworkMode::kModulated, agents::ContextPolicy::kTaskId);
  RlLearner learner(config);
  learner.begin_task(0);
  for (int u = 0; u < 5; ++u) learner.train_step();
  const double first = learner.evaluate(0);
  learner.begin_task(1);
  for (int u = 0; u < 5; ++u) learner.train_step();
  CHECK(learner.evaluate(0) == first);
  CHECK(learner.agent().network().context_count() == 2);
  CHECK(learner.bytes_per_task() > 0);

  // The same network with one shared context changes task 1's policy while learning task 2.
  config.agent.contexts = agents::ContextPolicy::kFixed;
  RlLearner shared(config);
  shared.begin_task(0);
  for (int u = 0; u < 5; ++u) shared.train_step();
  const auto before = agents::flat_parameters(shared.agent().network());
  shared.begin_task(1);
  for (int u = 0; u < 5; ++u) shared.train_step();
  CHECK(agents::flat_parameters(shared.agent().network()) != before);
  CHECK(shared.bytes_per_task() == 0);
}

TEST_CASE("RL scenarios and settings reject bad values by name", "[rl][errors]") {
  const json scenario = {{"kind", "rl"}, {"tasks", {"CartPole-v1"}}};
  CHECK_THROWS_WITH(
      RlScenario::from_json({{"kind", "rl"}, {"taks", {"CartPole-v1"}}}),
      Contains("RL scenario: unknown key 'taks' (did you mean 'tasks'?)") && Contains("tasks"));
  CHECK_THROWS_WITH(RlScenario::from_json({{"kind", "rl"}, {"tasks", json::array()}}),
                    Contains("'tasks' must be a non-empty list"));
  CHECK_THROWS_WITH(
      RlScenario::from_json({{"kind", "rl"}, {"tasks", {"CartPole-v1"}}, {"score", "reward"}}),
      Contains("'reward'") && Contains("success, return"));
  CHECK_THROWS_WITH(
      RlScenario::from_json({{"kind", "rl"}, {"tasks", {"CartPole-v1"}}, {"eval_episodes", 0}}),
      Contains("'eval_episodes' 0"));
  CHECK_THROWS_WITH(rl_config(scenario, {{"lr", 0.01}}, 0),
                    Contains("unknown setting 'lr'") && Contains("learning_rate"));
  CHECK_THROWS_WITH(rl_config(scenario, {{"modulation", "dopamine"}}, 0), Contains("dopamine"));
  CHECK_THROWS_WITH(rl_config(scenario, {{"env", "GoNoGo-v0"}}, 0),
                    Contains("unknown setting 'env'"));
  CHECK_THROWS_WITH(
      rl_config({{"kind", "rl"}, {"tasks", {"CartPole-v1", "Pendulum-v1"}}}, json::object(), 0),
      Contains("Pendulum-v1") && Contains("same action space"));
  CHECK_THROWS_WITH(rl_config({{"kind", "rl"}, {"tasks", {"CartPol-v1"}}}, json::object(), 0),
                    Contains("CartPol-v1"));
  // Success needs trials; CartPole has none.
  RlConfig config = cartpole_config(agents::Algorithm::kA2c, agents::Modulation::kNone,
                                    agents::NetworkMode::kTrainable, agents::ContextPolicy::kFixed);
  config.scenario.score = RlScore::kSuccess;
  RlLearner learner(config);
  CHECK_THROWS_WITH(learner.evaluate(0), Contains("score success needs trials") &&
                                             Contains("CartPole-v1") && Contains("score: return"));
  CHECK_THROWS_WITH(learner.evaluate(2), Contains("task 2 is out of range"));
}

TEST_CASE("an RL sweep config expands, runs and writes its scenario", "[rl][sweep]") {
  const char* text = R"(
name: tiny-rl
scenario:
  kind: rl
  tasks: [CartPole-v1, CartPoleHeavyPole-v1]
  score: return
  eval_episodes: 2
seeds: [0, 1]
defaults: {iterations_per_task: 3, eval_every: 1, hidden: [8], num_envs: 2, rollout_steps: 8}
methods:
  - {name: a2c, agent: a2c, modulation: none}
  - {name: modulated-da+na, network: modulated, modulation: da+na, contexts: task_id}
)";
  const SweepConfig config = SweepConfig::from_yaml(text);
  REQUIRE(config.rl());
  const auto runs = config.expand();
  REQUIRE(runs.size() == 4);
  CHECK(runs[0].scenario["tasks"][1]["id"] == "CartPoleHeavyPole-v1");

  const fs::path dir = fresh_dir("sweep");
  const SweepOutcome outcome = run_sweep(config, {.out_dir = dir, .jobs = 2, .progress = false});
  CHECK(outcome.executed == 4);
  CHECK(outcome.table.find("| modulated-da+na") != std::string::npos);
  std::ifstream in(dir / "runs" / "modulated-da+na_seed=1.json");
  const json run = json::parse(in);
  CHECK(run["scenario"]["kind"] == "rl");
  CHECK(run["record"]["matrix"].size() == 2);
  CHECK(run["metrics"]["mean_gain"].is_number());  // the noradrenaline gain
  // A changed scenario in the same directory is another sweep's state.
  SweepConfig changed = config;
  changed.scenario["eval_episodes"] = 3;
  CHECK_THROWS_AS(run_sweep(changed, {.out_dir = dir, .jobs = 1, .progress = false}),
                  SweepStateError);
  fs::remove_all(dir);

  // Errors: supervised keys in an RL sweep, RL keys in a supervised one, a bad kind.
  CHECK_THROWS_WITH(
      SweepConfig::from_yaml(std::string(text) + "grid: {lr: [0.1]}\n"),
      Contains("unknown setting 'lr' in 'grid' for an RL sweep") && Contains("learning_rate"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml("name: x\nmethods: [{name: a, modulation: da}]\n"),
                    Contains("unknown setting 'modulation'"));
  CHECK_THROWS_WITH(
      SweepConfig::from_yaml("name: x\nscenario: {kind: bandit}\nmethods: [{name: a}]\n"),
      Contains("kinds: supervised, rl"));
  CHECK_THROWS_WITH(
      SweepConfig::from_yaml("name: x\nscenario: {kind: rl, tasks: [CartPole-v1], seed: 3}\n"
                             "methods: [{name: a}]\n"),
      Contains("RL scenario: unknown key 'seed'"));
}

TEST_CASE("an RL learner learns the task it is shown", "[rl][learning]") {
  RlConfig config = cartpole_config(agents::Algorithm::kPpo, agents::Modulation::kDopamine,
                                    agents::NetworkMode::kTrainable, agents::ContextPolicy::kFixed);
  config.agent.hidden = {64, 64};
  config.agent.num_envs = 8;
  config.agent.rollout_steps = 128;
  config.agent.minibatches = 4;
  config.agent.ppo_epochs = 4;
  config.agent.learning_rate = 1e-3f;
  config.scenario.eval_episodes = 8;
  RlLearner learner(config);
  const double before = learner.evaluate(0);
  learner.begin_task(0);
  for (int u = 0; u < 20; ++u) learner.train_step();
  const double after = learner.evaluate(0);
  INFO("normalized return before " << before << ", after 20 updates " << after);
  CHECK(before < 0.1);  // an untrained policy drops the pole within 50 steps
  CHECK(after > 0.3);   // 20 PPO updates (20k steps) balance it for 150+ steps on average
}
