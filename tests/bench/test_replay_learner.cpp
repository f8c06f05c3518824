// Experience replay in the supervised learner: on class-incremental Split Fashion-MNIST, where a
// fine-tuned MLP forgets every earlier task, a small memory keeps them (plain replay and DER++);
// the run is deterministic; replay is refused where it means nothing.

#include <catch2/catch.hpp>
#include <cmath>

#include "bench/harness/continual.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/supervised.hpp"

using namespace locus::bench;
namespace data = locus::envs::data;
namespace nm = locus::neuromod;

namespace {

SupervisedConfig class_incremental(std::int64_t memory) {
  SupervisedConfig c;
  c.stream.kind = data::StreamKind::kSplit;
  c.stream.scenario = data::Scenario::kClassIncremental;
  c.stream.num_tasks = 3;
  c.stream.train_per_task = 512;
  c.stream.eval_per_task = 100;
  c.stream.seed = 3;
  c.hidden = {64};
  c.batch_size = 32;
  c.seed = 5;
  c.optimizer.kind = nm::OptimizerKind::kSgd;
  c.optimizer.learning_rate = 0.05f;
  c.replay.memory = memory;
  return c;
}

double mean_earlier_accuracy(const ContinualRecord& record) {
  // The first two tasks' accuracy after the last one.
  return (record.matrix[2][0] + record.matrix[2][1]) / 2.0;
}

}  // namespace

TEST_CASE("replay keeps the earlier tasks that fine-tuning forgets", "[continual][replay]") {
  const Schedule schedule{.iterations_per_task = 60, .eval_every = 60};
  SupervisedLearner naive(class_incremental(0));
  SupervisedLearner replay(class_incremental(200));
  const auto forgot = run_continual(naive, schedule);
  const auto kept = run_continual(replay, schedule);
  CAPTURE(mean_earlier_accuracy(forgot), mean_earlier_accuracy(kept));
  // Fine-tuning with one 6-class head answers only the last task's classes.
  CHECK(mean_earlier_accuracy(forgot) < 0.1);
  CHECK(mean_earlier_accuracy(kept) > 0.4);
  // Each step trained on the current minibatch and as many replayed examples.
  CHECK(kept.train_samples > forgot.train_samples);
  CHECK(replay.bytes_per_task() > 0);
}

TEST_CASE("a replay run is the same run again", "[continual][replay]") {
  const Schedule schedule{.iterations_per_task = 10, .eval_every = 5};
  SupervisedConfig config = class_incremental(50);
  config.replay.class_balanced = true;
  config.replay.batch = 8;
  SupervisedLearner a(config), b(config);
  const auto first = run_continual(a, schedule);
  const auto second = run_continual(b, schedule);
  CHECK(first.matrix == second.matrix);
  // The curves hold NaN before each task begins, which no == equals.
  REQUIRE(first.curves.size() == second.curves.size());
  for (std::size_t t = 0; t < first.curves.size(); ++t) {
    for (std::size_t e = 0; e < first.curves[t].size(); ++e) {
      const double x = first.curves[t][e], y = second.curves[t][e];
      CHECK(((std::isnan(x) && std::isnan(y)) || x == y));
    }
  }
  CHECK(first.train_samples == 30 * (32 + 8) - 8);  // nothing to replay at the first step
}

TEST_CASE("replay with joint training or a fresh network per task is refused",
          "[continual][replay]") {
  SupervisedConfig config = class_incremental(100);
  config.stream.joint = true;
  CHECK_THROWS_WITH(SupervisedLearner(config), Catch::Contains("joint false"));
  config = class_incremental(-1);
  CHECK_THROWS_AS(SupervisedLearner(config), InvalidArgumentError);
}

TEST_CASE("DER++ keeps the earlier tasks that fine-tuning forgets", "[continual][replay][der]") {
  SupervisedConfig config = class_incremental(200);
  config.replay.der_alpha = 0.3;
  config.replay.der_beta = 0.5;
  SupervisedLearner learner(config);
  const auto record = run_continual(learner, {.iterations_per_task = 60, .eval_every = 60});
  CAPTURE(mean_earlier_accuracy(record));
  CHECK(mean_earlier_accuracy(record) > 0.4);
  // Two replayed blocks beside every step's minibatch once the memory has examples.
  CHECK(record.train_samples > 180 * 32 + 170 * 2 * 32);

  config.replay.memory = 0;
  CHECK_THROWS_WITH(SupervisedLearner(config), Catch::Contains("replay_memory > 0"));
  config.replay.memory = 10;
  config.replay.der_beta = -1.0;
  CHECK_THROWS_AS(SupervisedLearner(config), InvalidArgumentError);
}
