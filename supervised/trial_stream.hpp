#pragma once
// TrialStream: trains one context of a recurrent network on one cognitive task, window after
// window, as NeuroGym trains its RNNs: cross-entropy against the per-step target on every step of
// a (seq_len, batch) window of trials (fixation until the decision period, so the network also
// learns when to answer), one optimizer step per window.
//
// The batch columns are continuous streams of trials (envs/cognitive/trial_dataset.hpp), so the
// stream carries the network's recurrent state from one window to the next (final_state() of a
// window is the initial state of the next): backpropagation is truncated at the window boundary,
// the memory is not. With reset_at_trial_start the state is zeroed at each trial's first step
// instead, so every trial starts from the same state (as NeuroGym's evaluation runs each trial
// alone).
//
// The stream keeps its own state, so several streams (tasks) may train one network in turn, each
// on its own context.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "envs/cognitive/trial_dataset.hpp"
#include "neuromod/network.hpp"

namespace locus::supervised {

struct WindowResult {
  double loss = 0.0;                  // mean cross-entropy over the window's steps
  std::size_t trials_ended = 0;       // trials whose last step was in the window
  std::size_t decisions_correct = 0;  // of those, answered right at their last step (arg-max)
};

class TrialStream {
 public:
  TrialStream(const envs::TrialDatasetConfig& data, bool reset_at_trial_start);

  // One window: forward_sequence from the carried state, the loss, backward and network.step().
  // Throws InvalidArgumentError when the network's input or output width does not fit the task.
  WindowResult train_window(neuromod::Network& network, neuromod::ContextId context);

  const envs::TrialDataset& dataset() const { return dataset_; }
  bool reset_at_trial_start() const { return reset_at_trial_start_; }

 private:
  envs::TrialDataset dataset_;
  bool reset_at_trial_start_;
  neuromod::RecurrentState state_;  // empty before the first window (zeros)
  envs::TrialBatch batch_;
  neuromod::Matrix inputs_;
  neuromod::Matrix gradient_;
  std::vector<neuromod::ContextId> contexts_;
};

// Throws InvalidArgumentError naming both widths when `network` cannot read the task's
// observations (exactly observation_size inputs: a task sequence pads them in the dataset) or
// answer with its actions (one head of at least num_actions units: tasks of a sequence share the
// largest task's readout, and an arg-max on an output another task uses counts as wrong).
void check_network_fits(const neuromod::Network& network, std::size_t observation_size,
                        std::size_t num_actions, const std::string& env_id);

// Copies a window's inputs into a (steps * batch, observation) matrix, time-major.
void window_inputs(const envs::TrialBatch& batch, neuromod::Matrix& inputs);

// The episode-start flags forward_sequence takes for a window: its trial starts when the state is
// zeroed at each trial's start, else none.
inline std::span<const std::uint8_t> window_starts(const envs::TrialBatch& batch,
                                                   bool reset_at_trial_start) {
  if (!reset_at_trial_start) return {};
  return batch.trial_starts;
}

// Counts the trials of `batch` whose last step's arg-max output equals their ground truth.
std::size_t count_correct_decisions(const envs::TrialBatch& batch, const neuromod::Matrix& logits);

}  // namespace locus::supervised
