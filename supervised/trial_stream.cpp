#include "supervised/trial_stream.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "neuromod/errors.hpp"
#include "neuromod/losses.hpp"

namespace locus::supervised {

void check_network_fits(const neuromod::Network& network, std::size_t observation_size,
                        std::size_t num_actions, const std::string& env_id) {
  const neuromod::NetworkSpec& spec = network.spec();
  if (spec.input_dim != observation_size) {
    throw neuromod::InvalidArgumentError(
        fmt::format("the network '{}' reads {} inputs, but {} observes {} values per step; make "
                    "the network with input_dim {}",
                    spec.name, spec.input_dim, env_id, observation_size, observation_size));
  }
  // More units than actions are allowed: tasks of a sequence share one readout of the largest
  // task's actions, and a task's targets never name the extra ones.
  if (spec.heads.size() != 1 || spec.heads[0].units < num_actions) {
    throw neuromod::InvalidArgumentError(fmt::format(
        "the network '{}' has {} head(s) ({} units in the first), but {} needs one head of at "
        "least {} units, one logit per action",
        spec.name, spec.heads.size(), spec.heads.empty() ? 0 : spec.heads[0].units, env_id,
        num_actions));
  }
}

void window_inputs(const envs::TrialBatch& batch, neuromod::Matrix& inputs) {
  const std::size_t rows = batch.steps * batch.batch;
  if (inputs.shape(0) != rows || inputs.shape(1) != batch.observation_size) {
    inputs.resize({rows, batch.observation_size});
  }
  std::copy(batch.inputs.begin(), batch.inputs.end(), inputs.begin());
}

std::size_t count_correct_decisions(const envs::TrialBatch& batch, const neuromod::Matrix& logits) {
  std::size_t correct = 0;
  const std::size_t actions = logits.shape(1);
  for (const envs::TrialEnd& end : batch.trial_ends) {
    const float* row = logits.data() + batch.row(end.step, end.column) * actions;
    const auto decision = std::max_element(row, row + actions) - row;
    correct += decision == end.ground_truth ? 1 : 0;
  }
  return correct;
}

TrialStream::TrialStream(const envs::TrialDatasetConfig& data, bool reset_at_trial_start)
    : dataset_(data), reset_at_trial_start_(reset_at_trial_start) {}

WindowResult TrialStream::train_window(neuromod::Network& network, neuromod::ContextId context) {
  check_network_fits(network, dataset_.observation_size(), dataset_.num_actions(),
                     dataset_.config().env_id);
  dataset_.next(batch_);
  window_inputs(batch_, inputs_);
  contexts_.assign(batch_.batch, context);
  const auto& outputs =
      network.forward_sequence(inputs_, batch_.batch, contexts_, state_.empty() ? nullptr : &state_,
                               window_starts(batch_, reset_at_trial_start_));
  WindowResult result;
  result.loss = neuromod::softmax_cross_entropy(outputs[0], batch_.targets, &gradient_);
  result.trials_ended = batch_.trial_ends.size();
  result.decisions_correct = count_correct_decisions(batch_, outputs[0]);
  state_ = network.final_state();
  network.zero_grad();
  network.backward(gradient_);
  network.step();
  return result;
}

}  // namespace locus::supervised
