// Finding the task boundaries in training (context_at_train on-change): the reuse-or-open choice
// and the boundary bookkeeping by hand, and, in the learner, a stream whose first domain returns.

#include <catch2/catch.hpp>
#include <vector>

#include "bench/harness/continual.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/methods/context_discovery.hpp"
#include "bench/harness/metrics.hpp"
#include "bench/harness/run_settings.hpp"
#include "bench/harness/supervised.hpp"
#include "bench/harness/sweep.hpp"
#include "neuromod/presets.hpp"
#include "tests/util/fresh_dir.hpp"

using namespace locus::bench;
namespace nm = locus::neuromod;

namespace {

struct SmallNetwork {
  std::unique_ptr<nm::Network> network =
      nm::make_network(nm::modulated_mlp(4, {8}, 2, /*seed=*/3), nm::Backend::kCpu);
  nm::Matrix inputs = nm::Matrix({6, 4});
  std::vector<std::int32_t> labels{0, 1, 0, 1, 1, 0};
  SmallNetwork() {
    for (std::size_t i = 0; i < inputs.size(); ++i) inputs.data()[i] = 0.1f * float(i % 7) - 0.3f;
  }
};

// Observes 30 ordinary losses (1.0 and 1.1 in turn: past the signal's warm-up of 20) and returns
// whether any of them flagged a change.
bool observe_ordinary_losses(ContextDiscovery& discovery, SmallNetwork& small) {
  bool flagged = false;
  for (int step = 0; step < 30; ++step) {
    flagged |= discovery.observe(*small.network, small.inputs, small.labels,
                                 step % 2 == 0 ? 1.0 : 1.1, step);
  }
  return flagged;
}

}  // namespace

TEST_CASE("context_at_train is checked against the network and its settings",
          "[bench][context-discovery]") {
  CHECK_THROWS_WITH(context_at_train_from_name("onchange"), Catch::Contains("on-change"));
  CHECK_THROWS_WITH(supervised_config({{"context_at_train", "on-change"}}, 0),
                    Catch::Contains("modulated"));
  const nlohmann::json modulated = {{"network", "modulated-mlp"},
                                    {"context_at_train", "on-change"}};
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json run = modulated;
    run[key] = std::move(value);
    return run;
  };
  CHECK_NOTHROW(supervised_config(modulated, 0));
  CHECK_THROWS_WITH(supervised_config(with("na_change_threshold", 0.0), 0),
                    Catch::Contains("na_change_threshold"));
  CHECK_THROWS_WITH(supervised_config(with("context_reuse_ratio", 1.5), 0),
                    Catch::Contains("context_reuse_ratio"));
  CHECK_THROWS_WITH(supervised_config(with("max_contexts", 0), 0), Catch::Contains("max_contexts"));
  CHECK_THROWS_WITH(supervised_config(with("replay_memory", 100), 0),
                    Catch::Contains("replay_memory 0"));
}

TEST_CASE("a surprising loss opens a new context, or reuses a stored one, by hand",
          "[bench][context-discovery]") {
  SmallNetwork small;
  const ContextDiscoveryConfig never_reuse{
      .change_threshold = 4.0f, .refractory = 0, .reuse_ratio = 0.0f, .max_contexts = 3};

  SECTION("below reuse_ratio of the current loss nothing qualifies: a new context") {
    ContextDiscovery discovery(never_reuse);
    CHECK_FALSE(observe_ordinary_losses(discovery, small));
    CHECK(small.network->context_count() == 1);
    CHECK(discovery.observe(*small.network, small.inputs, small.labels, 100.0, 30));
    CHECK(small.network->context_count() == 2);
    CHECK(small.network->selected_context() == 1);
    REQUIRE(discovery.switches().size() == 1);
    const ContextSwitch change = discovery.switches().front();
    CHECK(change.step == 30);
    CHECK(change.from == 0);
    CHECK(change.to == 1);
    CHECK_FALSE(change.reused);
    CHECK(change.z > 4.0);
  }
  SECTION("a stored context whose loss is below reuse_ratio of the current one is reused") {
    small.network->select_context(small.network->add_context());
    ContextDiscoveryConfig reuse = never_reuse;
    reuse.reuse_ratio = 0.5f;
    ContextDiscovery discovery(reuse);
    CHECK_FALSE(observe_ordinary_losses(discovery, small));
    // Context 0's cross-entropy on two classes is near log 2, far below half of 100.
    CHECK(discovery.observe(*small.network, small.inputs, small.labels, 100.0, 30));
    CHECK(small.network->context_count() == 2);
    CHECK(small.network->selected_context() == 0);
    REQUIRE(discovery.switches().size() == 1);
    CHECK(discovery.switches().front().reused);
  }
  SECTION("with max_contexts open the best stored context is reused whatever its loss") {
    small.network->select_context(small.network->add_context());
    ContextDiscoveryConfig full = never_reuse;
    full.max_contexts = 2;
    ContextDiscovery discovery(full);
    CHECK_FALSE(observe_ordinary_losses(discovery, small));
    CHECK(discovery.observe(*small.network, small.inputs, small.labels, 100.0, 30));
    CHECK(small.network->context_count() == 2);
    CHECK(small.network->selected_context() == 0);
  }
}

TEST_CASE("switches are matched to the task boundaries, by hand", "[bench][context-discovery]") {
  // Tasks of 100 steps, boundaries at 100, 200 and 300: a false alarm in task 0, boundary 100
  // found 3 steps late, a second switch in task 1, boundary 200 missed, boundary 300 found 1 late.
  const std::vector<ContextSwitch> switches = {
      {.step = 5}, {.step = 103}, {.step = 150}, {.step = 301}};
  const BoundaryDetection detection = detect_boundaries(switches, 100, 4);
  REQUIRE(detection.delays.size() == 3);
  CHECK(detection.delays[0] == 3);
  CHECK_FALSE(detection.delays[1].has_value());
  CHECK(detection.delays[2] == 1);
  CHECK(detection.extra_switches == 2);
  CHECK_THROWS_WITH(detect_boundaries(switches, 0, 4), Catch::Contains("steps_per_task"));
}

TEST_CASE("a learner told no boundaries finds them and reuses the returning domain's context",
          "[continual][context-discovery]") {
  // Domain-incremental rotated Fashion-MNIST at 0, 80 and again 0 degrees.
  const nlohmann::json settings = {{"stream", "rotated"},
                                   {"scenario", "domain-incremental"},
                                   {"angles", {0.0, 80.0, 0.0}},
                                   {"train_per_task", 1000},
                                   {"eval_per_task", 100},
                                   {"batch_size", 64},
                                   {"network", "modulated-mlp"},
                                   {"hidden", {256}},
                                   {"optimizer", "rmsprop"},
                                   {"lr", 0.01},
                                   {"context_at_train", "on-change"},
                                   {"context_at_test", "oracle"}};
  // Measured (seeds 0-2): both boundaries flagged at their first minibatch, z 12-17.
  const Schedule schedule{.iterations_per_task = 100, .eval_every = 100};
  SupervisedLearner learner(supervised_config(settings, 0));
  const auto matrix = run_continual(learner, schedule).matrix;
  const auto switches = learner.context_switches();
  REQUIRE(switches.size() == 2);
  CHECK(switches[0].step == 100);
  CHECK(switches[0].to == 1);
  CHECK_FALSE(switches[0].reused);
  CHECK(switches[1].step == 200);
  CHECK(switches[1].to == 0);
  CHECK(switches[1].reused);
  CHECK(learner.context_of(0) == 0);
  CHECK(learner.context_of(1) == 1);
  CHECK(learner.context_of(2) == 0);
  CHECK(learner.network().context_count() == 2);
  // The 80-degree task keeps its own context: training the returning domain does not touch it.
  CAPTURE(matrix);
  CHECK(matrix[2][1] == Approx(matrix[1][1]).margin(1e-9));
}

TEST_CASE("a sweep's summary tells what the runs found of their task boundaries",
          "[sweep][context-discovery]") {
  const SweepConfig config = SweepConfig::from_yaml(R"(
name: found-boundaries
seeds: [0]
defaults: {stream: rotated, scenario: domain-incremental, angles: [0, 80, 0], train_per_task: 1000,
           eval_per_task: 100, iterations_per_task: 100, eval_every: 100, batch_size: 64,
           network: modulated-mlp, hidden: [256], optimizer: rmsprop, lr: 0.01,
           context_at_test: batch-entropy}
methods:
  - {name: told}
  - {name: found, context_at_train: on-change}
)");
  const auto outcome = run_sweep(
      config,
      {.out_dir = locus::testing::fresh_dir("found-boundaries"), .jobs = 1, .progress = false});
  const std::string& table = outcome.table;
  const auto section = table.find("Task boundaries found in training");
  REQUIRE(section != std::string::npos);
  // Only the run that looked for the boundaries has a row: both found at their first step, by
  // two contexts (the returning domain reuses the first).
  CHECK(table.find("| found ", section) != std::string::npos);
  CHECK(table.find("| told ", section) == std::string::npos);
  CHECK(table.find("2 of 2", section) != std::string::npos);
  CHECK(table.find("2.0", section) != std::string::npos);
}
