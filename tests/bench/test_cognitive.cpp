// Continual learning of cognitive tasks (bench/cognitive.hpp) through the harness: a modulated
// recurrent network with one context per task keeps every earlier task's accuracy exactly
// (backward transfer 0), the trainable one shares its weights; sweep configs of kind cognitive
// expand, run and reject bad settings by name.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/cognitive.hpp"
#include "bench/errors.hpp"
#include "bench/sweep.hpp"

using namespace locus::bench;
using Catch::Matchers::Contains;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const json kScenario = {{"kind", "cognitive"},
                        {"tasks",
                         {"GoNoGo-v0", "PerceptualDecisionMaking-v0", "DelayMatchSample-v0",
                          "ContextDecisionMaking-v0"}},
                        {"eval_trials", 20}};
const json kTinySettings = {{"hidden", 8},
                            {"batch_size", 4},
                            {"seq_len", 20},
                            {"iterations_per_task", 3},
                            {"eval_every", 1}};

}  // namespace

TEST_CASE("one context per task: later tasks leave earlier accuracies exactly",
          "[cognitive][contexts]") {
  json settings = kTinySettings;
  settings["learning_rate"] = 0.5;  // large steps, so that a leak between contexts would show
  CognitiveLearner learner(cognitive_config(kScenario, settings, 1));
  REQUIRE(learner.num_tasks() == 4);
  // The widest task's observation (ContextDecisionMaking: 1 + 2 * 2 ring) and most actions.
  REQUIRE(learner.network().spec().input_dim == 5);
  REQUIRE(learner.network().context_count() == 4);
  const ContinualRecord record =
      run_continual(learner, {.iterations_per_task = 5, .eval_every = 5});
  for (std::size_t j = 1; j < 4; ++j) {
    for (std::size_t i = 0; i < j; ++i) REQUIRE(record.matrix[j][i] == record.matrix[i][i]);
  }
  REQUIRE(compute_metrics(record).bwt == 0.0);
  REQUIRE(learner.bytes_per_task() > 0);
}

TEST_CASE("the trainable network is one context whose every weight learns", "[cognitive]") {
  json settings = kTinySettings;
  settings["network"] = "trainable";
  CognitiveLearner learner(cognitive_config(kScenario, settings, 1));
  REQUIRE(learner.network().context_count() == 1);
  REQUIRE(learner.network().spec().has_trainable_shared_weights());
  REQUIRE(learner.bytes_per_task() == 0);
  learner.begin_task(0);
  const auto before = learner.network().read_parameter("layer0.weight");
  (void)learner.train_step();
  REQUIRE(learner.network().read_parameter("layer0.weight") != before);
}

TEST_CASE("a cognitive sweep config expands, runs and writes its scenario", "[cognitive][sweep]") {
  const char* text = R"(
name: tiny-cognitive
scenario:
  kind: cognitive
  tasks: [GoNoGo-v0, {id: PerceptualDecisionMaking-v0, kwargs: {dim_ring: 2}}]
  eval_trials: 10
seeds: [0]
defaults: {iterations_per_task: 2, eval_every: 1, hidden: 8, batch_size: 2, seq_len: 25}
methods:
  - {name: modulated-gru, network: modulated}
  - {name: trainable-gru, network: trainable}
)";
  const SweepConfig config = SweepConfig::from_yaml(text);
  REQUIRE(config.cognitive());
  REQUIRE(config.expand().size() == 2);
  const fs::path dir =
      fs::temp_directory_path() / ("locus_bench_cognitive_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const SweepOutcome outcome = run_sweep(config, {.out_dir = dir, .jobs = 1, .progress = false});
  CHECK(outcome.executed == 2);
  std::ifstream in(dir / "runs" / "modulated-gru_seed=0.json");
  const json run = json::parse(in);
  CHECK(run["scenario"]["kind"] == "cognitive");
  CHECK(run["record"]["matrix"].size() == 2);
  CHECK(run["metrics"]["bwt"] == 0.0);
  fs::remove_all(dir);

  CHECK_THROWS_WITH(SweepConfig::from_yaml(std::string(text) + "grid: {lr: [0.1]}\n"),
                    Contains("unknown setting 'lr' in 'grid' for a cognitive sweep") &&
                        Contains("learning_rate"));
  CHECK_THROWS_WITH(
      SweepConfig::from_yaml("name: x\nscenario: {kind: cognitive, tasks: [GoNoGo-v0], x: 1}\n"
                             "methods: [{name: a}]\n"),
      Contains("unknown cognitive scenario key 'x'"));
  CHECK_THROWS_WITH(cognitive_config(kScenario, {{"network", "mlp"}}, 0),
                    Contains("'network' must be modulated or trainable"));
  CHECK_THROWS_WITH(cognitive_config(kScenario, {{"recurrence", "rnn"}}, 0),
                    Contains("use elman, gru or lstm"));
  CHECK_THROWS_WITH(cognitive_config(kScenario, {{"hidden", 0}}, 0),
                    Contains("'hidden' must be an integer from 1"));
  json no_tasks = kScenario;
  no_tasks["tasks"] = json::array();
  CHECK_THROWS_WITH(cognitive_config(no_tasks, json::object(), 0), Contains("lists no task"));
  json not_a_task = kScenario;
  not_a_task["tasks"] = {"CartPole-v1"};
  CHECK_THROWS_WITH(CognitiveLearner(cognitive_config(not_a_task, json::object(), 0)),
                    Contains("does not say its per-step target"));
}
