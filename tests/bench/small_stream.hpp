#pragma once
// The stream on which the continual-learning methods' learner tests compare a method with
// fine-tuning: task-incremental Split Fashion-MNIST, 3 tasks of 512 training images, an MLP of 64
// trained by SGD at lr 0.05, 60 steps per task. Fine-tuning forgets 0.230 on it (seeds 0-2).

#include <cstdint>
#include <nlohmann/json.hpp>

#include "bench/harness/continual.hpp"
#include "bench/harness/metrics.hpp"
#include "bench/harness/run_settings.hpp"
#include "bench/harness/supervised.hpp"

namespace locus::testing::small_stream {

inline nlohmann::json settings() {
  return {{"stream", "split"},    {"scenario", "task-incremental"},
          {"num_tasks", 3},       {"train_per_task", 512},
          {"eval_per_task", 100}, {"batch_size", 32},
          {"hidden", {64}},       {"optimizer", "sgd"},
          {"lr", 0.05},           {"iterations_per_task", 60}};
}

// The average forgetting over seeds 0-2 of the stream's settings with `extra` on top (an empty
// object: fine-tuning).
inline double mean_forgetting(const nlohmann::json& extra) {
  const bench::Schedule schedule{.iterations_per_task = 60, .eval_every = 60};
  double mean = 0.0;
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    nlohmann::json run = settings();
    run.update(extra);
    bench::SupervisedLearner learner(bench::supervised_config(run, seed));
    mean += bench::average_forgetting(bench::run_continual(learner, schedule).matrix) / 3.0;
  }
  return mean;
}

}  // namespace locus::testing::small_stream
