#pragma once
// Accuracy on a cognitive task as NeuroGym measures it: the decision is the arg-max of the
// network's output at the last step of each trial, compared with that trial's ground truth (the
// answer due in its decision period; 0, withholding, on a No-Go trial).
//
// The trials are held out: the dataset's evaluation split (split 1), whose streams are disjoint
// from every training stream, from a fixed seed, so that every evaluation of a run scores the same
// trials. They run as training runs them: continuous streams from a zero state, carried across
// windows (zeroed at each trial's start with reset_at_trial_start). The first `trials` trials to
// end count, in order of their last step and column.
//
// Evaluation changes nothing that training reads: it runs forward_sequence only, which overwrites
// the activations and final_state() that the next training window recomputes, keeps its own
// recurrent state, and puts the network's noise position back (a noisy Elman layer).

#include <cstddef>
#include <cstdint>
#include <string>

#include "envs/env.hpp"
#include "neuromod/network.hpp"

namespace locus::supervised {

struct TrialEvaluation {
  std::string env_id;
  envs::Kwargs env_kwargs = envs::Kwargs::object();
  std::size_t trials = 500;     // trials scored
  std::size_t batch_size = 50;  // streams run side by side
  std::size_t seq_len = 100;    // steps per forward_sequence call
  std::uint64_t seed = 0;
  bool reset_at_trial_start = false;
  // The inputs as training shapes them (envs::TrialDatasetConfig): padding and rule inputs.
  std::size_t input_width = 0;
  std::size_t rule_count = 0;
  std::size_t rule = 0;
  void validate() const;  // throws InvalidArgumentError naming the field
};

struct TrialScore {
  double accuracy = 0.0;  // correct / trials
  std::size_t trials = 0;
  std::size_t correct = 0;
};

TrialScore evaluate_trials(neuromod::Network& network, neuromod::ContextId context,
                           const TrialEvaluation& evaluation);

}  // namespace locus::supervised
