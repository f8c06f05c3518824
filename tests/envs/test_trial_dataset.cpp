// TrialDataset: the cognitive tasks as NeuroGym-style supervised windows. Checked against the task
// stepped by hand (the same observations, info targets and trial ends, across window boundaries),
// shapes, seeding of columns and splits, and the errors.

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "envs/cognitive/trial_dataset.hpp"
#include "envs/errors.hpp"
#include "envs/registry.hpp"

using namespace locus::envs;

namespace {

struct ManualStep {
  std::vector<float> observation;
  std::int32_t target = 0;
  bool trial_ended = false;
  std::int64_t ground_truth = -1;  // on a trial's last step
};

// The task stepped with action 0 from reset(seed): what each step was shown and its info.
std::vector<ManualStep> run_by_hand(const std::string& id, const Seed& seed, std::size_t steps) {
  auto env = make(id, Kwargs::object(), {.max_episode_steps = 1'000'000});
  auto [observation, info] = env->reset(seed);
  const auto floats = [](const Value& value) {
    const auto span = as_span<const float>(value.array().bytes());
    return std::vector<float>(span.begin(), span.end());
  };
  std::vector<float> shown = floats(observation);
  std::vector<ManualStep> out;
  for (std::size_t t = 0; t < steps; ++t) {
    StepResult result = env->step(Array::scalar<std::int64_t>(0));
    ManualStep step{shown, static_cast<std::int32_t>(result.info.get_int("target")),
                    result.info.get_bool("trial_ended")};
    if (step.trial_ended) step.ground_truth = result.info.get_int("ground_truth");
    out.push_back(step);
    shown = floats(result.observation);
  }
  return out;
}

// Column `column` of consecutive windows, flattened over time.
std::vector<ManualStep> column_of(TrialDataset& dataset, std::size_t column, std::size_t windows) {
  std::vector<ManualStep> out;
  for (std::size_t w = 0; w < windows; ++w) {
    const TrialBatch batch = dataset.next();
    for (std::size_t t = 0; t < batch.steps; ++t) {
      const std::size_t row = batch.row(t, column);
      ManualStep step;
      step.observation.assign(
          batch.inputs.begin() + static_cast<std::ptrdiff_t>(row * batch.observation_size),
          batch.inputs.begin() + static_cast<std::ptrdiff_t>((row + 1) * batch.observation_size));
      step.target = batch.targets[row];
      for (const TrialEnd& end : batch.trial_ends) {
        if (end.step == t && end.column == column) {
          step.trial_ended = true;
          step.ground_truth = end.ground_truth;
        }
      }
      out.push_back(step);
    }
  }
  return out;
}

void require_same(const std::vector<ManualStep>& a, const std::vector<ManualStep>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t t = 0; t < a.size(); ++t) {
    INFO("step " << t);
    REQUIRE(a[t].observation == b[t].observation);
    REQUIRE(a[t].target == b[t].target);
    REQUIRE(a[t].trial_ended == b[t].trial_ended);
    REQUIRE(a[t].ground_truth == b[t].ground_truth);
  }
}

Seed column_seed(std::uint64_t seed, std::uint32_t column, std::uint32_t split) {
  const std::array<std::uint32_t, 5> words = {
      static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), column, 0, split};
  return Seed::from_words(words);
}

}  // namespace

TEST_CASE("TrialDataset windows are the task's steps with action 0 and their info targets",
          "[trial_dataset]") {
  for (const std::string id : {"PerceptualDecisionMaking-v0", "GoNoGo-v0", "DelayMatchSample-v0",
                               "ContextDecisionMaking-v0"}) {
    INFO(id);
    TrialDataset dataset({.env_id = id, .batch_size = 3, .seq_len = 17, .seed = 5});
    // Three windows: trials cross the window boundaries, and the streams continue across them.
    const auto by_hand_0 = run_by_hand(id, Seed(5), 3 * 17);
    const auto by_hand_2 = run_by_hand(id, column_seed(5, 2, 0), 3 * 17);
    TrialDataset again({.env_id = id, .batch_size = 3, .seq_len = 17, .seed = 5});
    require_same(column_of(dataset, 0, 3), by_hand_0);
    require_same(column_of(again, 2, 3), by_hand_2);
  }
}

TEST_CASE("TrialDataset shapes, trial starts and ground truths", "[trial_dataset]") {
  TrialDataset dataset(
      {.env_id = "PerceptualDecisionMaking-v0", .batch_size = 4, .seq_len = 50, .seed = 1});
  REQUIRE(dataset.observation_size() == 3);
  REQUIRE(dataset.num_actions() == 3);
  const TrialBatch batch = dataset.next();
  REQUIRE(dataset.windows() == 1);
  REQUIRE(batch.steps == 50);
  REQUIRE(batch.batch == 4);
  REQUIRE(batch.observation_size == 3);
  REQUIRE(batch.inputs.size() == 50 * 4 * 3);
  REQUIRE(batch.targets.size() == 50 * 4);
  REQUIRE(batch.trial_starts.size() == 50 * 4);
  // PerceptualDecisionMaking's trials are 22 steps at dt 100: two end in 50 steps per column.
  REQUIRE(batch.trial_ends.size() == 4 * 2);
  for (std::size_t b = 0; b < 4; ++b) REQUIRE(batch.trial_starts[batch.row(0, b)] == 1);
  for (std::size_t i = 0; i < batch.trial_ends.size(); ++i) {
    const TrialEnd& end = batch.trial_ends[i];
    if (i > 0) {
      const TrialEnd& before = batch.trial_ends[i - 1];
      REQUIRE((before.step < end.step || (before.step == end.step && before.column < end.column)));
    }
    // The decision period is the last: the last step's target is the trial's ground truth.
    REQUIRE(batch.targets[batch.row(end.step, end.column)] == end.ground_truth);
    REQUIRE((end.ground_truth == 1 || end.ground_truth == 2));
    if (end.step + 1 < batch.steps)
      REQUIRE(batch.trial_starts[batch.row(end.step + 1, end.column)]);
  }
  // Fixation (0) until the decision period: most steps' target is 0.
  std::size_t fixate = 0;
  for (std::int32_t target : batch.targets) fixate += target == 0 ? 1 : 0;
  REQUIRE(fixate == batch.targets.size() - batch.trial_ends.size());
}

TEST_CASE("TrialDataset is determined by its seed and split", "[trial_dataset]") {
  const TrialDatasetConfig config{
      .env_id = "DelayMatchSample-v0", .batch_size = 2, .seq_len = 30, .seed = 9};
  TrialDataset a(config), b(config);
  const TrialBatch first = a.next();
  REQUIRE(first.inputs == b.next().inputs);
  REQUIRE(a.next().targets == b.next().targets);
  TrialDatasetConfig other_seed = config;
  other_seed.seed = 10;
  REQUIRE(TrialDataset(other_seed).next().inputs != first.inputs);
  TrialDatasetConfig held_out = config;
  held_out.split = 1;
  REQUIRE(TrialDataset(held_out).next().inputs != first.inputs);
  // Column 1 of seed 9 is not column 0 of seed 10 (make_vec's seed + i would make it so).
  TrialDatasetConfig one_column = other_seed;
  one_column.batch_size = 1;
  const TrialBatch next_seed = TrialDataset(one_column).next();
  REQUIRE(first.observation_size == 3);
  std::vector<float> column1;
  for (std::size_t t = 0; t < first.steps; ++t) {
    const std::size_t row = first.row(t, 1);
    const auto begin = first.inputs.begin() + static_cast<std::ptrdiff_t>(row * 3);
    column1.insert(column1.end(), begin, begin + 3);
  }
  REQUIRE(column1 != next_seed.inputs);
}

TEST_CASE("TrialDataset refuses bad ids, sizes and tasks without targets", "[trial_dataset]") {
  const auto make_dataset = [](TrialDatasetConfig config) { TrialDataset dataset(config); };
  REQUIRE_THROWS_AS(make_dataset({.env_id = "PerceptualDecisionMakin-v0"}), UnknownEnvError);
  REQUIRE_THROWS_WITH(make_dataset({.env_id = "GoNoGo-v0", .batch_size = 0}),
                      Catch::Contains("batch_size must be at least 1, got 0"));
  REQUIRE_THROWS_WITH(make_dataset({.env_id = "GoNoGo-v0", .seq_len = 0}),
                      Catch::Contains("seq_len must be at least 1, got 0"));
  REQUIRE_THROWS_WITH(
      make_dataset({.env_id = "GoNoGo-v0", .batch_size = 1u << 20, .seq_len = 1u << 20}),
      Catch::Contains("seq_len 1048576 x batch_size 1048576"));
  REQUIRE_THROWS_WITH(make_dataset({.env_id = "CartPole-v1"}),
                      Catch::Contains("'CartPole-v1' does not say its per-step target"));
  REQUIRE_THROWS_WITH(make_dataset({.env_id = "Pendulum-v1"}),
                      Catch::Contains("needs Discrete(n)"));
  REQUIRE_THROWS_WITH(make_dataset({.env_id = "GoNoGo-v0", .env_kwargs = {{"dt", -1}}}),
                      Catch::Contains("dt"));
}

TEST_CASE("TrialDataset pads observations and appends a one-hot rule input", "[trial_dataset]") {
  const TrialDatasetConfig plain{.env_id = "GoNoGo-v0", .batch_size = 2, .seq_len = 12, .seed = 4};
  TrialDatasetConfig padded = plain;
  padded.input_width = 5;  // GoNoGo observes 3 values
  padded.rule_count = 4;
  padded.rule = 2;
  TrialDataset a(plain), b(padded);
  REQUIRE(b.task_observation_size() == 3);
  REQUIRE(b.observation_size() == 5 + 4);
  const TrialBatch x = a.next(), y = b.next();
  REQUIRE(y.observation_size == 9);
  REQUIRE(y.targets == x.targets);
  for (std::size_t row = 0; row < x.steps * x.batch; ++row) {
    const float* own = x.inputs.data() + row * 3;
    const float* wide = y.inputs.data() + row * 9;
    REQUIRE(std::vector<float>(wide, wide + 3) == std::vector<float>(own, own + 3));
    REQUIRE(std::vector<float>(wide + 3, wide + 9) == std::vector<float>{0, 0, 0, 0, 1, 0});
  }
  const auto make_dataset = [](TrialDatasetConfig config) { TrialDataset dataset(config); };
  TrialDatasetConfig narrow = plain;
  narrow.input_width = 2;
  REQUIRE_THROWS_WITH(make_dataset(narrow),
                      Catch::Contains("input_width 2 is narrower than the 3"));
  TrialDatasetConfig bad_rule = plain;
  bad_rule.rule_count = 2;
  bad_rule.rule = 2;
  REQUIRE_THROWS_WITH(make_dataset(bad_rule), Catch::Contains("rule 2 is not one of the 2"));
}
