// Continual evaluation: the schedule of evaluations, the accuracy matrix, that evaluating leaves
// training unchanged, and the supervised methods' expected behaviour on Fashion-MNIST (modulated
// contexts do not forget; a fine-tuned MLP does).

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "bench/harness/continual.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/supervised.hpp"
#include "neuromod/kernels.hpp"
#include "tests/bench/network_values.hpp"

using namespace locus::bench;
using locus::testing::all_parameters;
namespace nm = locus::neuromod;
namespace data = locus::envs::data;

namespace {

// Accuracy of task j = (j + 1) * 0.01 * steps trained so far, capped at 1: a learner whose state
// is visible in every score. evaluate() counts its calls, which must not change that state.
class ScriptedLearner final : public Learner {
 public:
  std::int64_t num_tasks() const override { return 3; }
  void begin_task(std::int64_t task) override { tasks_begun.push_back(task); }
  TrainStep train_step() override {
    ++steps;
    return {0.5, 8};
  }
  double evaluate(std::int64_t task) override {
    ++evaluations;
    return std::min(1.0, 0.01 * static_cast<double>((task + 1) * steps));
  }
  std::int64_t parameter_count() const override { return 42; }
  std::int64_t bytes_per_task() const override { return 7; }
  std::optional<double> gain() const override { return 1.0 + 0.1 * static_cast<double>(steps); }
  std::int64_t steps = 0;
  std::int64_t evaluations = 0;
  std::vector<std::int64_t> tasks_begun;
};

// A small but real setting: Split Fashion-MNIST, 3 tasks, 256 training and 100 held-out images per
// task.
SupervisedConfig small_config(NetworkKind network, bool joint) {
  SupervisedConfig c;
  c.stream.kind = data::StreamKind::kSplit;
  c.stream.scenario = data::Scenario::kTaskIncremental;
  c.stream.num_tasks = 3;
  c.stream.train_per_task = 256;
  c.stream.eval_per_task = 100;
  c.stream.joint = joint;
  c.stream.seed = 3;
  c.network = network;
  c.hidden = {32, 32};
  c.batch_size = 32;
  c.seed = 5;
  c.optimizer.kind = nm::OptimizerKind::kSgd;
  c.optimizer.learning_rate = 0.05f;
  return c;
}

}  // namespace

TEST_CASE("the harness evaluates seen tasks every eval_every and all tasks at block ends",
          "[continual]") {
  ScriptedLearner learner;
  const ContinualRecord record =
      run_continual(learner, {.iterations_per_task = 10, .eval_every = 4});
  CHECK(learner.tasks_begun == std::vector<std::int64_t>{0, 1, 2});
  CHECK(record.block_ends == std::vector<std::int64_t>{10, 20, 30});
  // t = 0, every 4, and each block end.
  CHECK(record.iterations == std::vector<std::int64_t>{0, 4, 8, 10, 12, 16, 20, 24, 28, 30});
  CHECK(record.train_steps == 30);
  CHECK(record.train_samples == 240);
  // Initial accuracies before any step, and the matrix rows after each block.
  CHECK(record.initial == std::vector<double>{0.0, 0.0, 0.0});
  CHECK(record.matrix[0][0] == Approx(0.10));
  CHECK(record.matrix[0][2] == Approx(0.30));  // an unseen task is scored for FWT
  CHECK(record.matrix[1][1] == Approx(0.40));
  CHECK(record.matrix[2][0] == Approx(0.30));
  // Curves hold seen tasks only: task 2 appears after t = 20.
  CHECK(std::isnan(record.curves[2][6]));
  CHECK(record.curves[2][7] == Approx(0.72));
  CHECK(record.curves[0][1] == Approx(0.04));
  CHECK(record.gains[3] == Approx(2.0));
  CHECK(record.losses[1] == Approx(0.5));
  CHECK(std::isnan(record.losses[0]));
  // Mean gain over the 30 steps: 1 + 0.1 * mean(1..30) = 2.55.
  CHECK(record.mean_gain == Approx(2.55));
  CHECK(record.parameter_count == 42);
  CHECK(record.bytes_per_task == 7);
  const RunMetrics m = compute_metrics(record);
  CHECK(m.acc == Approx((0.3 + 0.6 + 0.9) / 3));
  CHECK(m.bwt == Approx(((0.3 - 0.1) + (0.6 - 0.4)) / 2));
  CHECK(m.sg.size() == 2);
  CHECK(m.avg_sg <= 0.0);  // a curve that only rises has no gap
}

TEST_CASE("bad schedules are rejected with the value", "[continual][errors]") {
  ScriptedLearner learner;
  CHECK_THROWS_WITH(run_continual(learner, {.iterations_per_task = 0, .eval_every = 1}),
                    Catch::Matchers::Contains("iterations_per_task 0"));
  CHECK_THROWS_AS(run_continual(learner, {.iterations_per_task = 5, .eval_every = 0}),
                  InvalidArgumentError);
}

TEST_CASE("evaluating every iteration leaves training bit-identical", "[continual][supervised]") {
  for (const bool ngm : {false, true}) {
    SupervisedConfig config = small_config(NetworkKind::kMlp, /*joint=*/true);
    config.ngm = ngm;
    config.optimizer.kind = nm::OptimizerKind::kAdam;
    config.optimizer.learning_rate = 0.001f;
    SupervisedLearner often(config), rarely(config);
    const auto a = run_continual(often, {.iterations_per_task = 12, .eval_every = 1});
    const auto b = run_continual(rarely, {.iterations_per_task = 12, .eval_every = 12});
    CHECK(a.iterations.size() == 37);
    CHECK(b.iterations.size() == 4);
    CHECK(a.matrix == b.matrix);
    CHECK(all_parameters(often.network()) == all_parameters(rarely.network()));
    CHECK(often.gain() == rarely.gain());
    if (ngm) CHECK(*often.gain() != 1.0);  // NGM really moved the gain
  }
}

TEST_CASE("modulated contexts never forget, a fine-tuned MLP does", "[continual][supervised]") {
  SupervisedLearner modulated(small_config(NetworkKind::kModulatedMlp, /*joint=*/false));
  const auto m =
      compute_metrics(run_continual(modulated, {.iterations_per_task = 24, .eval_every = 8}));
  CHECK(m.bwt == 0.0);  // exactly: the other contexts receive no update
  CHECK(m.forgetting == 0.0);
  CHECK(m.acc > 0.7);
  CHECK(modulated.network().context_count() == 3);
  CHECK(m.bytes_per_task > 0);

  SupervisedLearner mlp(small_config(NetworkKind::kMlp, /*joint=*/false));
  const auto f = compute_metrics(run_continual(mlp, {.iterations_per_task = 24, .eval_every = 8}));
  CHECK(f.forgetting > 0.05);
  CHECK(f.parameter_count == 784 * 32 + 32 * 32 + 32 * 2);  // no biases
  CHECK(f.bytes_per_task == 0);                             // fine-tuning keeps nothing per task
}

TEST_CASE("a modulated network needs the task id or an inferred context", "[continual][errors]") {
  SupervisedConfig config = small_config(NetworkKind::kModulated, false);
  config.stream.scenario = data::Scenario::kClassIncremental;
  CHECK_THROWS_WITH(SupervisedLearner(config), Catch::Matchers::Contains("context_at_test"));
  config = small_config(NetworkKind::kMlp, false);
  config.ngm = true;
  config.fixed_gain = 1.5f;
  CHECK_THROWS_AS(SupervisedLearner(config), InvalidArgumentError);
}

TEST_CASE("a fixed-gain control keeps its gain", "[continual][supervised]") {
  SupervisedConfig config = small_config(NetworkKind::kMlp, true);
  config.fixed_gain = 1.25f;
  SupervisedLearner learner(config);
  const auto record = run_continual(learner, {.iterations_per_task = 4, .eval_every = 2});
  CHECK(record.mean_gain == Approx(1.25));
  CHECK(learner.network().weight_gain(0) == 1.25f);
}

TEST_CASE("a supervised learner runs its network on the device it names", "[continual][cuda]") {
  SupervisedConfig config = small_config(NetworkKind::kModulatedMlp, /*joint=*/false);
  config.device = locus::neuromod::Backend::kCuda;
  if (!locus::neuromod::cuda_available()) {
    WARN("CUDA learner skipped: " << locus::neuromod::cuda_status());
    CHECK_THROWS_WITH(SupervisedLearner(config), Catch::Matchers::Contains("CUDA"));
    return;
  }
  SupervisedLearner on_gpu(config);
  const auto m =
      compute_metrics(run_continual(on_gpu, {.iterations_per_task = 24, .eval_every = 8}));
  CHECK(m.acc > 0.7);
  CHECK(m.bwt == 0.0);  // one context per task on the GPU too
}

TEST_CASE("a supervised learner in bfloat16 precision learns like float32",
          "[continual][supervised][bf16]") {
  SupervisedConfig config = small_config(NetworkKind::kModulatedMlp, /*joint=*/false);
  config.precision = locus::neuromod::MatmulPrecision::kTf32;
  CHECK_THROWS_WITH(SupervisedLearner(config), Catch::Matchers::Contains("setting 'precision'") &&
                                                   Catch::Matchers::Contains("CUDA"));
  config.precision = locus::neuromod::MatmulPrecision::kBfloat16;
  if (!locus::neuromod::cpu_supports_bf16_products()) {
    WARN("bfloat16 learner skipped: this CPU has no AVX512-BF16");
    CHECK_THROWS_WITH(SupervisedLearner(config), Catch::Matchers::Contains("AVX512-BF16"));
    return;
  }
  SupervisedLearner bf16(config);
  CHECK(bf16.network().matmul_precision() == locus::neuromod::MatmulPrecision::kBfloat16);
  const auto m = compute_metrics(run_continual(bf16, {.iterations_per_task = 24, .eval_every = 8}));
  CHECK(m.acc > 0.7);
  CHECK(m.bwt == 0.0);  // one context per task: bfloat16 keeps zero interference
}

TEST_CASE("a separate network per task gives the single-task reference",
          "[continual][supervised]") {
  SupervisedConfig config = small_config(NetworkKind::kMlp, /*joint=*/false);
  config.separate = true;
  SupervisedLearner solo(config);
  const ContinualRecord record = run_continual(solo, {.iterations_per_task = 24, .eval_every = 8});
  for (std::size_t j = 0; j < record.matrix.size(); ++j) {
    INFO("task " << j);
    CHECK(record.matrix[j][j] > 0.7);  // each task learned from a fresh start
  }
  // Task 1 started from a new network: the first layer no longer holds what task 0 learned.
  SupervisedLearner fine_tuned(small_config(NetworkKind::kMlp, false));
  fine_tuned.begin_task(0);
  SupervisedLearner fresh(config);
  fresh.begin_task(0);
  for (int i = 0; i < 5; ++i) {
    fine_tuned.train_step();
    fresh.train_step();
  }
  const auto trained =
      fresh.network().read_parameter("layer0.weight", locus::neuromod::kSharedContext);
  fresh.begin_task(1);
  CHECK(fresh.network().read_parameter("layer0.weight", locus::neuromod::kSharedContext) !=
        trained);
  fine_tuned.begin_task(1);
  CHECK(fine_tuned.network().read_parameter("layer0.weight", locus::neuromod::kSharedContext) ==
        trained);  // same seed and data: fine-tuning keeps the weights
  config.network = NetworkKind::kModulatedMlp;
  CHECK_THROWS_WITH(SupervisedLearner(config), Catch::Matchers::Contains("separate"));
}
