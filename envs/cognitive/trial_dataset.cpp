#include "envs/cognitive/trial_dataset.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <span>

#include "envs/errors.hpp"
#include "envs/registry.hpp"
#include "envs/space.hpp"
#include "util/memory.hpp"

namespace locus::envs {

void TrialDatasetConfig::validate() const {
  if (batch_size == 0) {
    throw InvalidArgumentError("TrialDataset: batch_size must be at least 1, got 0");
  }
  if (seq_len == 0) throw InvalidArgumentError("TrialDataset: seq_len must be at least 1, got 0");
  if (batch_size > kMaxTrialWindowRows || seq_len > kMaxTrialWindowRows / batch_size) {
    throw InvalidArgumentError(fmt::format(
        "TrialDataset: a window of seq_len {} x batch_size {} steps is more than the {} a window "
        "may hold; lower seq_len or batch_size",
        seq_len, batch_size, kMaxTrialWindowRows));
  }
  if (rule_count > 0 && rule >= rule_count) {
    throw InvalidArgumentError(
        fmt::format("TrialDataset: rule {} is not one of the {} rule inputs (0..{})", rule,
                    rule_count, rule_count - 1));
  }
  if (input_width > kMaxTrialInputWidth || rule_count > kMaxTrialInputWidth) {
    throw InvalidArgumentError(
        fmt::format("TrialDataset: input_width {} and rule_count {} must each be at most {}",
                    input_width, rule_count, kMaxTrialInputWidth));
  }
}

struct TrialDataset::Column {
  std::unique_ptr<Env> env;
  std::vector<std::byte> observation;  // the observation the next recorded step shows
  std::array<std::byte, sizeof(std::int64_t)> action{};  // 0: fixate, never respond
  Info info;
  bool trial_starts_next = true;
};

namespace {

// seed + column * 2^64 + split * 2^128 (see the header).
Seed column_seed(std::uint64_t seed, std::size_t column, std::uint32_t split) {
  const auto low = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
  const auto high = [](std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); };
  const std::array<std::uint32_t, 5> words = {low(seed), high(seed), low(column), high(column),
                                              split};
  return Seed::from_words(words);
}

// The observation size of a trial task's float32 Box(n), or a message saying what is wrong.
std::size_t trial_observation_size(const Env& env, const std::string& id) {
  const auto* box = dynamic_cast<const Box*>(&env.observation_space());
  if (box == nullptr || box->dtype() != DType::kFloat32 || box->shape().size() != 1) {
    throw InvalidArgumentError(fmt::format(
        "TrialDataset: '{}' has the observation space {}, but a trial dataset needs a float32 "
        "Box of one dimension (a cognitive task such as PerceptualDecisionMaking-v0)",
        id, env.observation_space().to_string()));
  }
  return static_cast<std::size_t>(box->shape()[0]);
}

std::size_t trial_action_count(const Env& env, const std::string& id) {
  const auto* discrete = dynamic_cast<const Discrete*>(&env.action_space());
  if (discrete == nullptr || discrete->start() != 0) {
    throw InvalidArgumentError(fmt::format(
        "TrialDataset: '{}' has the action space {}, but a trial dataset needs Discrete(n) "
        "starting at 0 (action 0 fixates)",
        id, env.action_space().to_string()));
  }
  return static_cast<std::size_t>(discrete->n());
}

}  // namespace

TrialDataset::TrialDataset(const TrialDatasetConfig& config) : config_(config) {
  config_.validate();
  const std::uint64_t window_bytes = util::saturating_mul(config_.seq_len, config_.batch_size,
                                                          sizeof(float) + sizeof(std::int32_t) + 1);
  util::require_memory<InvalidArgumentError>(
      window_bytes,
      fmt::format("a trial window of seq_len {} x batch_size {}", config_.seq_len,
                  config_.batch_size),
      "lower seq_len or batch_size");
  // NeuroGym's tasks run without a time limit; the registered one would cut a trial short.
  const MakeOptions options{.max_episode_steps = std::numeric_limits<std::int64_t>::max(),
                            .disable_env_checker = true};
  columns_.reserve(config_.batch_size);
  for (std::size_t b = 0; b < config_.batch_size; ++b) {
    auto column = std::make_unique<Column>();
    column->env = make(config_.env_id, config_.env_kwargs, options);
    if (b == 0) {
      task_observation_size_ = trial_observation_size(*column->env, config_.env_id);
      num_actions_ = trial_action_count(*column->env, config_.env_id);
      if (config_.input_width != 0 && config_.input_width < task_observation_size_) {
        throw InvalidArgumentError(fmt::format(
            "TrialDataset: input_width {} is narrower than the {} values '{}' observes; pad to "
            "at least the largest task's observation",
            config_.input_width, task_observation_size_, config_.env_id));
      }
      observation_size_ =
          std::max(config_.input_width, task_observation_size_) + config_.rule_count;
    }
    column->observation.resize(column->env->observation_space().packed_bytes());
    column->env->reset(column->observation, column->info,
                       column_seed(config_.seed, b, config_.split));
    if (!column->info.contains("target") || !column->info.contains("trial_ended")) {
      throw InvalidArgumentError(fmt::format(
          "TrialDataset: '{}' does not say its per-step target: its info lacks \"target\" or "
          "\"trial_ended\" (the timed cognitive tasks have both: GoNoGo-v0, "
          "PerceptualDecisionMaking-v0, DelayMatchSample-v0, ContextDecisionMaking-v0, "
          "SetShiftGoNoGo-v0)",
          config_.env_id));
    }
    columns_.push_back(std::move(column));
  }
}

TrialDataset::~TrialDataset() = default;
TrialDataset::TrialDataset(TrialDataset&&) noexcept = default;
TrialDataset& TrialDataset::operator=(TrialDataset&&) noexcept = default;

void TrialDataset::next(TrialBatch& batch) {
  const std::size_t steps = config_.seq_len;
  const std::size_t width = config_.batch_size;
  batch.steps = steps;
  batch.batch = width;
  batch.observation_size = observation_size_;
  batch.inputs.assign(steps * width * observation_size_, 0.0f);  // the padding stays zero
  batch.targets.resize(steps * width);
  batch.trial_starts.resize(steps * width);
  batch.trial_ends.clear();
  for (std::size_t b = 0; b < width; ++b) {
    Column& column = *columns_[b];
    const auto observation = as_span<const float>(std::span<const std::byte>(column.observation));
    for (std::size_t t = 0; t < steps; ++t) {
      const std::size_t row = batch.row(t, b);
      float* input = batch.inputs.data() + row * observation_size_;
      std::copy(observation.begin(), observation.end(), input);
      if (config_.rule_count > 0) input[observation_size_ - config_.rule_count + config_.rule] = 1;
      batch.trial_starts[row] = column.trial_starts_next ? 1 : 0;
      const StepOutcome outcome = column.env->step(column.action, column.observation, column.info);
      // The step's info describes the observation it was given: its target, and whether it was
      // its trial's last step (the observation returned already belongs to the next trial).
      batch.targets[row] = static_cast<std::int32_t>(column.info.get_int("target"));
      column.trial_starts_next = column.info.get_bool("trial_ended");
      if (column.trial_starts_next) {
        batch.trial_ends.push_back({t, b, column.info.get_int("ground_truth")});
      }
      if (outcome.terminated || outcome.truncated) {
        column.env->reset(column.observation, column.info);
        column.trial_starts_next = true;
      }
    }
  }
  std::sort(batch.trial_ends.begin(), batch.trial_ends.end(),
            [](const TrialEnd& a, const TrialEnd& b) {
              return a.step != b.step ? a.step < b.step : a.column < b.column;
            });
  ++windows_;
}

TrialBatch TrialDataset::next() {
  TrialBatch batch;
  next(batch);
  return batch;
}

}  // namespace locus::envs
