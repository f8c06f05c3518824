#pragma once
// A supervised training run on a cognitive task written to a directory, for the command line
// (`locus supervised`) and Python:
//   DIR/config.json     what was trained (task, network, optimizer, sizes, seed)
//   DIR/metrics.csv     iteration, loss, train_accuracy, accuracy per evaluation
//   DIR/summary.json    the final held-out accuracy, trials scored, time
//   DIR/network.ckpt    the trained network (neuromod::load_checkpoint reads it)
// Each file is written whole or not at all (util/atomic_file.hpp); metrics.csv and summary.json
// are rewritten after every evaluation, so an interrupted run leaves its progress so far.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "supervised/trial_trainer.hpp"

namespace locus::supervised {

struct TrialRunOptions {
  std::int64_t iterations = 2000;
  std::int64_t eval_every = 0;    // 0: evaluate only at the end
  std::filesystem::path out_dir;  // empty: write nothing
  void validate() const;          // throws InvalidArgumentError naming the field
};

struct TrialRunResult {
  TrialHistory history;
  TrialScore final_score;  // held-out, after the last iteration
  double train_seconds = 0.0;
  nlohmann::json summary;  // what summary.json holds
};

// Trains and, when out_dir is set, writes the run. `on_evaluation` as TrialTrainer::train.
// Throws InvalidArgumentError for a bad config, or an out_dir that cannot be made or already holds
// a run (its config.json), and CheckpointError when a file cannot be written.
TrialRunResult run_trial_training(
    const TrialTrainerConfig& config, const TrialRunOptions& options,
    const std::function<bool(const TrialHistory&)>& on_evaluation = {});

// The JSON of a config, as config.json holds it.
nlohmann::json to_json(const TrialTrainerConfig& config);

}  // namespace locus::supervised
