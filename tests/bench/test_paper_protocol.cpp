// The knobs a paper's protocol needs (bench/configs/ngm_paper.yaml): weights drawn per layer from
// normal(0, init_std), minibatches drawn with replacement, and evaluation of the first task only
// between the ends of tasks (every task at the ends, for the accuracy matrix).

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "bench/harness/continual.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/run_settings.hpp"
#include "bench/harness/supervised.hpp"

using namespace locus::bench;
namespace nm = locus::neuromod;

namespace {

nlohmann::json small_settings() {
  return {{"stream", "split"},   {"scenario", "class-incremental"},
          {"num_tasks", 3},      {"train_per_task", 256},
          {"eval_per_task", 50}, {"batch_size", 32},
          {"hidden", {64, 32}},  {"optimizer", "sgd"},
          {"lr", 0.05}};
}

double sample_std(const std::vector<float>& values) {
  double sum = 0.0, squares = 0.0;
  for (const float v : values) {
    sum += v;
    squares += static_cast<double>(v) * v;
  }
  const auto n = static_cast<double>(values.size());
  return std::sqrt(squares / n - (sum / n) * (sum / n));
}

}  // namespace

TEST_CASE("init_std draws each trainable layer from normal(0, std)", "[bench][protocol]") {
  nlohmann::json settings = small_settings();
  settings["init_std"] = {0.01, 0.02, 0.05};
  SupervisedLearner learner(supervised_config(settings, 3));
  std::vector<double> stds;
  for (const auto& info : learner.network().parameters()) {
    if (info.trainable && info.context == nm::kSharedContext) {
      stds.push_back(sample_std(learner.network().read_parameter(info.name)));
    }
  }
  REQUIRE(stds.size() == 3);
  // 784 x 64, 64 x 32 and 32 x 10 draws: within a few standard errors of the given std.
  CHECK(stds[0] == Approx(0.01).epsilon(0.02));
  CHECK(stds[1] == Approx(0.02).epsilon(0.05));
  CHECK(stds[2] == Approx(0.05).epsilon(0.15));
  settings["init_std"] = {0.01, 0.05};
  CHECK_THROWS_WITH(SupervisedLearner(supervised_config(settings, 3)),
                    Catch::Contains("init_std lists 2") && Catch::Contains("3 trainable"));
  settings["init_std"] = {0.01, -1.0, 0.05};
  CHECK_THROWS_WITH(supervised_config(settings, 3), Catch::Contains("init_std"));
}

TEST_CASE("eval_tasks first evaluates only the first task between the ends of tasks",
          "[bench][protocol]") {
  nlohmann::json settings = small_settings();
  settings["sampling"] = "with-replacement";
  settings["eval_tasks"] = "first";
  settings["iterations_per_task"] = 10;
  settings["eval_every"] = 2;
  const Schedule schedule = schedule_from_settings(settings);
  REQUIRE(schedule.only_first_task);
  SupervisedLearner learner(supervised_config(settings, 0));
  const ContinualRecord record = run_continual(learner, schedule);
  // Evaluations at 0, 2, ..., 30: the first task's curve has a value at each after t = 0.
  REQUIRE(record.iterations.size() == 16);
  for (std::size_t e = 1; e < record.iterations.size(); ++e) {
    CHECK(std::isfinite(record.curves[0][e]));
  }
  // Task 1 (block 10-20): only at the ends of blocks 1 and 2 (t = 20 and 30).
  for (std::size_t e = 0; e < record.iterations.size(); ++e) {
    const std::int64_t t = record.iterations[e];
    CAPTURE(t);
    CHECK(std::isfinite(record.curves[1][e]) == (t == 20 || t == 30));
  }
  // The accuracy matrix is whole.
  for (const auto& row : record.matrix) {
    for (const double value : row) CHECK(std::isfinite(value));
  }
  settings["eval_tasks"] = "last";
  CHECK_THROWS_WITH(schedule_from_settings(settings), Catch::Contains("seen, first"));
  settings["eval_tasks"] = "first";
  settings["sampling"] = "bootstrap";
  CHECK_THROWS_WITH(supervised_config(settings, 0), Catch::Contains("with-replacement"));
}

TEST_CASE("sampling with replacement trains on other minibatches than epochs do",
          "[bench][protocol]") {
  nlohmann::json settings = small_settings();
  const Schedule schedule{.iterations_per_task = 8, .eval_every = 8};
  SupervisedLearner epochs(supervised_config(settings, 0));
  settings["sampling"] = "with-replacement";
  SupervisedLearner drawn(supervised_config(settings, 0));
  SupervisedLearner drawn_again(supervised_config(settings, 0));
  const auto a = run_continual(epochs, schedule).matrix;
  const auto b = run_continual(drawn, schedule).matrix;
  const auto c = run_continual(drawn_again, schedule).matrix;
  CHECK(b == c);  // deterministic
  CHECK(a != b);
}
