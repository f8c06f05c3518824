#pragma once
// TrialDataset: a cognitive task as supervised data, as NeuroGym's ngym.Dataset makes it: batches
// of (seq_len, batch, observation) inputs, time-major, with an integer target per step (the
// task's info "target": 0, fixate, until the decision period, then the trial's ground truth).
//
// Each batch column is one continuous stream of trials: the task runs with action 0 throughout
// (no response, so every trial runs through all its periods), and each step's observation is
// recorded with that step's info target. Successive calls of next() return successive seq_len
// windows of the same streams, so a recurrent network can carry its state from one window to the
// next (Network::final_state() -> the next initial state).
//
// Differences from NeuroGym's Dataset, on purpose:
//  - NeuroGym fills a cache of whole trials per column and starts fresh trials when it refills,
//    cutting the cache's last trial short; here the streams never break, so no trial is cut except
//    by a window boundary (and the next window continues it).
//  - Every column is seeded: column b of split s is reset with the seed
//    seed + b * 2^64 + s * 2^128 (Python: env.reset(seed=seed + (b << 64) + (s << 128))), so
//    column 0 of the training split is env.reset(seed=seed), and the evaluation split never
//    shares a stream with training, whatever the seeds and batch sizes.
//  - Besides the targets, a batch lists every trial that ends inside it (the step and column of
//    its last step, and its ground truth from info), which is where NeuroGym's accuracy reads the
//    decision, and flags each trial's first step (to zero a state there, when wanted).
//
// The task is made without its registered time limit (NeuroGym's tasks have none); if it ends an
// episode anyway (kwargs trials_per_episode > 0) the column is reset without a seed, continuing
// its random stream, and the step after is a trial start.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envs/env.hpp"

namespace locus::envs {

struct TrialDatasetConfig {
  std::string env_id;                    // a task whose info has "target" and "trial_ended"
  Kwargs env_kwargs = Kwargs::object();  // passed to make()
  std::size_t batch_size = 16;           // streams (columns)
  std::size_t seq_len = 100;             // steps per window
  std::uint64_t seed = 0;
  std::uint32_t split = 0;  // 0 training, 1 held-out evaluation, ...: disjoint streams
  // Several tasks feeding one network (continual learning of a task sequence): each step's input
  // is the task's observation padded with zeros to `input_width` values (0: the task's own size),
  // then, when rule_count > 0, a one-hot rule input of rule_count values with `rule` set (the rule
  // inputs of Yang et al. 2019, which tell the network which task it is doing).
  std::size_t input_width = 0;
  std::size_t rule_count = 0;
  std::size_t rule = 0;
  // Throws InvalidArgumentError naming the field when a size is 0 or too large.
  void validate() const;
};

// The most steps * columns one window may hold: far beyond any BPTT window, and low enough that
// a mistyped size (1e9) is refused before anything is allocated.
inline constexpr std::size_t kMaxTrialWindowRows = std::size_t{1} << 26;

// The most values input_width or rule_count may ask for.
inline constexpr std::size_t kMaxTrialInputWidth = std::size_t{1} << 16;

struct TrialEnd {
  std::size_t step = 0;    // within the window
  std::size_t column = 0;  // batch column
  std::int64_t ground_truth = 0;
};

struct TrialBatch {
  std::size_t steps = 0;
  std::size_t batch = 0;
  std::size_t observation_size = 0;
  std::vector<float> inputs;               // (steps, batch, observation_size), time-major
  std::vector<std::int32_t> targets;       // (steps, batch)
  std::vector<std::uint8_t> trial_starts;  // (steps, batch): 1 at a trial's first step
  std::vector<TrialEnd> trial_ends;        // trials whose last step is here, by step then column
  std::size_t row(std::size_t step, std::size_t column) const { return step * batch + column; }
};

class TrialDataset {
 public:
  // Makes batch_size copies of the task and resets each with its column's seed. Throws
  // UnknownEnvError for an unknown id and InvalidArgumentError for bad sizes or a task that is
  // not a trial task (a float32 Box(n) observation, a Discrete action and info "target").
  explicit TrialDataset(const TrialDatasetConfig& config);
  ~TrialDataset();
  TrialDataset(TrialDataset&&) noexcept;
  TrialDataset& operator=(TrialDataset&&) noexcept;

  // The next window of every stream.
  void next(TrialBatch& batch);
  TrialBatch next();

  const TrialDatasetConfig& config() const { return config_; }
  // The width of each step's input: input_width (or the task's observation size) + rule_count.
  std::size_t observation_size() const { return observation_size_; }
  std::size_t task_observation_size() const { return task_observation_size_; }
  std::size_t num_actions() const { return num_actions_; }  // the task's Discrete(n)
  std::int64_t windows() const { return windows_; }         // next() calls so far

 private:
  struct Column;
  TrialDatasetConfig config_;
  std::size_t observation_size_ = 0;
  std::size_t task_observation_size_ = 0;
  std::size_t num_actions_ = 0;
  std::int64_t windows_ = 0;
  std::vector<std::unique_ptr<Column>> columns_;
};

}  // namespace locus::envs
