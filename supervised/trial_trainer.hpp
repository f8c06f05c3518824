#pragma once
// TrialTrainer: a recurrent network trained by supervision on one cognitive task, NeuroGym's
// recipe (its supervised examples: Adam, cross-entropy on every step of (seq_len, batch) trial
// windows), with the accuracy NeuroGym reports (supervised/trial_evaluation.hpp).
//
//   TrialTrainerConfig config;
//   config.data = {.env_id = "PerceptualDecisionMaking-v0", .batch_size = 16, .seq_len = 100};
//   config.network = {.recurrence = neuromod::Recurrence::kGru, .hidden = 128, .modulated = true};
//   TrialTrainer trainer(config);
//   TrialHistory history = trainer.train(2000, /*eval_every=*/500);
//   history.accuracies.back();     // held-out trials answered correctly
//
// The network is neuromod::recurrent_network(recurrence, observation size, hidden, actions, seed,
// modulated, alpha) unless the config gives a spec: modulated, its input, recurrent and readout
// weights are fixed random and only the context (gains and biases) learns; trainable, every weight
// learns. The trained network is an ordinary neuromod::Network (save_checkpoint saves it).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "envs/cognitive/trial_dataset.hpp"
#include "neuromod/network.hpp"
#include "supervised/trial_evaluation.hpp"
#include "supervised/trial_stream.hpp"

namespace locus::supervised {

// "elman", "gru", "lstm"; throws InvalidArgumentError listing them.
neuromod::Recurrence recurrence_from_name(std::string_view name);

struct RecurrentChoice {
  neuromod::Recurrence recurrence = neuromod::Recurrence::kGru;
  std::size_t hidden = 128;
  bool modulated = false;  // fixed random weights, learned gains and biases
  float alpha = 1.0f;      // Elman only: the leak dt / tau
  // A spec of the caller's instead of the preset (its input width and single head must fit the
  // task; its layers must be recurrent).
  std::optional<neuromod::NetworkSpec> spec;
};

// The default optimizer: Adam with the gradient norm clipped at 1 (which keeps a GRU or LSTM
// stable at these rates), learning rate 1e-2 for trainable weights as NeuroGym's examples, 1e-1
// for a modulated network, whose few gains and biases move the fixed network much less per unit
// of change (at 1e-2 a modulated GRU often had not begun to answer after 300 windows).
neuromod::OptimizerConfig default_trial_optimizer(bool modulated);

struct TrialTrainerConfig {
  envs::TrialDatasetConfig data;  // env_id, env_kwargs, batch_size, seq_len, seed (data + network)
  RecurrentChoice network;
  // Unset: default_trial_optimizer(network.modulated).
  std::optional<neuromod::OptimizerConfig> optimizer;
  neuromod::Backend backend = neuromod::Backend::kCpu;
  bool reset_at_trial_start = false;  // zero the state at each trial's start (train and eval)
  std::size_t eval_trials = 500;
  void validate() const;  // throws InvalidArgumentError naming the field
  neuromod::OptimizerConfig optimizer_or_default() const;
};

struct TrialHistory {
  std::vector<std::int64_t> iterations;  // the iteration after which each evaluation ran
  std::vector<double> losses;            // mean training loss since the previous evaluation
  std::vector<double> train_accuracies;  // decisions right in the training windows since then
  std::vector<double> accuracies;        // held-out accuracy
};

class TrialTrainer {
 public:
  explicit TrialTrainer(const TrialTrainerConfig& config);

  // One window, one optimizer step.
  WindowResult train_step();
  // The held-out accuracy now (the same trials every time).
  TrialScore evaluate();
  // `iterations` steps, evaluating every `eval_every` (0: only after the last) and after the last;
  // `on_evaluation(history)` runs after each evaluation (progress output, a stop flag: return
  // false to stop early).
  TrialHistory train(std::int64_t iterations, std::int64_t eval_every,
                     const std::function<bool(const TrialHistory&)>& on_evaluation = {});

  neuromod::Network& network() { return *network_; }
  const neuromod::Network& network() const { return *network_; }
  const TrialTrainerConfig& config() const { return config_; }
  std::int64_t iterations_done() const { return iterations_done_; }
  // The score of train()'s last evaluation.
  const std::optional<TrialScore>& last_score() const { return last_score_; }

 private:
  TrialTrainerConfig config_;
  TrialStream stream_;  // first: the network's widths come from its task
  std::unique_ptr<neuromod::Network> network_;
  TrialEvaluation evaluation_;
  std::int64_t iterations_done_ = 0;
  std::optional<TrialScore> last_score_;
};

// The network a choice makes for a task of `observation_size` inputs and `num_actions` actions.
neuromod::NetworkSpec trial_network_spec(const RecurrentChoice& choice,
                                         std::size_t observation_size, std::size_t num_actions,
                                         std::uint64_t seed);

}  // namespace locus::supervised
