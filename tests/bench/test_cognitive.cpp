// Continual learning of cognitive tasks (bench/harness/cognitive.hpp): a modulated recurrent
// network keeps every finished task bit for bit (backward transfer exactly 0); a trainable one
// changes its shared weights on every task; evaluating never changes training; the sweep's
// cognitive scenario and its errors.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench/harness/cognitive.hpp"
#include "bench/harness/continual.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/metrics.hpp"
#include "bench/harness/sweep.hpp"

using namespace locus::bench;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// GoNoGo (3 inputs, 2 actions) then PerceptualDecisionMaking (3 inputs, 3 actions): small and
// short, so a run takes a second or two.
json two_tasks() {
  return {{"kind", "cognitive"},
          {"tasks", {"GoNoGo-v0", "PerceptualDecisionMaking-v0"}},
          {"rule_input", true},
          {"eval_trials", 20},
          {"eval_seed", 5}};
}

json small_settings(const char* network) {
  return {{"network", network}, {"recurrence", "gru"},      {"hidden", 12},   {"batch_size", 4},
          {"seq_len", 20},      {"iterations_per_task", 6}, {"eval_every", 3}};
}

Schedule schedule(std::int64_t iterations, std::int64_t eval_every) {
  Schedule s;
  s.iterations_per_task = iterations;
  s.eval_every = eval_every;
  return s;
}

std::vector<std::vector<float>> context_parameters(const locus::neuromod::Network& net,
                                                   locus::neuromod::ContextId context) {
  std::vector<std::vector<float>> values;
  for (const auto& info : net.parameters()) {
    if (info.context == context) values.push_back(net.read_parameter(info.name, info.context));
  }
  return values;
}

}  // namespace

TEST_CASE("a modulated recurrent network keeps each cognitive task exactly", "[bench][cognitive]") {
  CognitiveLearner learner(cognitive_config(two_tasks(), small_settings("modulated"), 3));
  REQUIRE(learner.num_tasks() == 2);
  REQUIRE(learner.network().context_count() == 2);
  // 3 observed values padded to 3, then a 2-value rule input; 3 actions (the larger task's).
  REQUIRE(learner.network().spec().input_dim == 5);
  REQUIRE(learner.network().spec().heads[0].units == 3);
  learner.begin_task(0);
  for (int i = 0; i < 6; ++i) learner.train_step();
  const auto task0 = context_parameters(learner.network(), 0);
  const double after_task0 = learner.evaluate(0);
  learner.begin_task(1);
  for (int i = 0; i < 6; ++i) learner.train_step();
  REQUIRE(context_parameters(learner.network(), 0) == task0);  // bit for bit
  REQUIRE(context_parameters(learner.network(), 1) != task0);
  REQUIRE(learner.evaluate(0) == after_task0);
  // Through the harness: backward transfer exactly 0.
  CognitiveLearner again(cognitive_config(two_tasks(), small_settings("modulated"), 3));
  const ContinualRecord record = run_continual(again, schedule(6, 3));
  REQUIRE(record.matrix[1][0] == record.matrix[0][0]);
  REQUIRE(compute_metrics(record).bwt == 0.0);
  REQUIRE(record.bytes_per_task > 0);
}

TEST_CASE("a trainable recurrent network is fine-tuned through the sequence",
          "[bench][cognitive]") {
  CognitiveLearner learner(cognitive_config(two_tasks(), small_settings("trainable"), 3));
  REQUIRE(learner.network().context_count() == 1);
  learner.begin_task(0);
  for (int i = 0; i < 3; ++i) learner.train_step();
  const auto shared = context_parameters(learner.network(), locus::neuromod::kSharedContext);
  learner.begin_task(1);
  learner.train_step();
  REQUIRE(context_parameters(learner.network(), locus::neuromod::kSharedContext) != shared);
  REQUIRE(learner.bytes_per_task() == 0);
}

TEST_CASE("evaluating a cognitive learner never changes its training", "[bench][cognitive]") {
  for (const char* network : {"modulated", "trainable"}) {
    INFO(network);
    CognitiveLearner often(cognitive_config(two_tasks(), small_settings(network), 4));
    CognitiveLearner rarely(cognitive_config(two_tasks(), small_settings(network), 4));
    const ContinualRecord a = run_continual(often, schedule(4, 1));
    const ContinualRecord b = run_continual(rarely, schedule(4, 4));
    REQUIRE(a.matrix == b.matrix);
    for (const auto& info : often.network().parameters()) {
      REQUIRE(often.network().read_parameter(info.name, info.context) ==
              rarely.network().read_parameter(info.name, info.context));
    }
  }
}

TEST_CASE("separate: a fresh network per task scores each task trained alone",
          "[bench][cognitive]") {
  // A trainable network starts task 1 from its initial weights, not from task 0's training.
  json settings = small_settings("trainable");
  settings["separate"] = true;
  CognitiveLearner alone(cognitive_config(two_tasks(), settings, 3));
  const auto initial = context_parameters(alone.network(), locus::neuromod::kSharedContext);
  alone.begin_task(0);
  for (int i = 0; i < 3; ++i) alone.train_step();
  REQUIRE(context_parameters(alone.network(), locus::neuromod::kSharedContext) != initial);
  alone.begin_task(1);
  REQUIRE(context_parameters(alone.network(), locus::neuromod::kSharedContext) == initial);
  // The modulated network trains task 1's context the same way alone or after task 0.
  settings = small_settings("modulated");
  settings["separate"] = true;
  CognitiveLearner learner(cognitive_config(two_tasks(), settings, 3));
  const ContinualRecord separate = run_continual(learner, schedule(6, 3));
  CognitiveLearner sequence(cognitive_config(two_tasks(), small_settings("modulated"), 3));
  const ContinualRecord together = run_continual(sequence, schedule(6, 3));
  REQUIRE(separate.matrix[1][1] == together.matrix[1][1]);
}

TEST_CASE("cognitive sweep configs and their errors", "[bench][cognitive]") {
  const SweepConfig config = SweepConfig::from_yaml(R"(
name: cognitive_tiny
seeds: [0]
scenario: {kind: cognitive, tasks: [GoNoGo-v0, PerceptualDecisionMaking-v0], eval_trials: 10}
defaults: {recurrence: gru, hidden: 8, batch_size: 2, seq_len: 10, iterations_per_task: 2}
methods:
  - {name: modulated, network: modulated}
  - {name: finetuned, network: trainable}
)");
  REQUIRE(config.cognitive());
  REQUIRE_FALSE(config.rl());
  const auto runs = config.expand();
  REQUIRE(runs.size() == 2);
  REQUIRE(runs[0].settings["eval_every"] == 50);  // the cognitive default, written into the run
  const json result = execute_run(runs[0]);
  REQUIRE(result["metrics"]["bwt"] == 0.0);
  REQUIRE(result["scenario"]["kind"] == "cognitive");

  auto bad = [](const std::string& text) { return SweepConfig::from_yaml(text).expand(); };
  const std::string head = "name: x\nseeds: [0]\nscenario: {kind: cognitive, tasks: [GoNoGo-v0]}\n";
  REQUIRE_THROWS_WITH(bad(head + "methods: [{name: a, optimizer: sgd}]"),
                      Contains("unknown setting 'optimizer'") && Contains("cognitive"));
  REQUIRE_THROWS_WITH(bad(head + "methods: [{name: a, network: mlp}]"),
                      Contains("'network' is 'mlp'; allowed: modulated, trainable"));
  REQUIRE_THROWS_WITH(bad(head + "methods: [{name: a, recurrence: rnn}]"),
                      Contains("setting 'recurrence'"));
  REQUIRE_THROWS_WITH(bad("name: x\nseeds: [0]\nscenario: {kind: cognitive, tasks: [CartPole-v1]}\n"
                          "methods: [{name: a}]"),
                      Contains("CartPole-v1"));
  REQUIRE_THROWS_WITH(
      bad("name: x\nseeds: [0]\nscenario: {kind: cognitive, tasks: [GoNoGo-v0], foo: 1}\n"
          "methods: [{name: a}]"),
      Contains("unknown cognitive scenario key 'foo'"));
}
