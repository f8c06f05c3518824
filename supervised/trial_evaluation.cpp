#include "supervised/trial_evaluation.hpp"

#include <fmt/core.h>

#include <vector>

#include "envs/cognitive/trial_dataset.hpp"
#include "neuromod/errors.hpp"
#include "supervised/trial_stream.hpp"

namespace locus::supervised {

namespace {
// Beyond this many steps per scored trial a task's trials are not ending (a task that needs a
// response to end its trials, or one whose trials are longer than any cognitive task's).
constexpr std::size_t kMaxStepsPerTrial = 100'000;
}  // namespace

void TrialEvaluation::validate() const {
  if (trials == 0) {
    throw neuromod::InvalidArgumentError("evaluation: trials must be at least 1, got 0");
  }
  // The dataset checks batch_size and seq_len with its own messages.
  envs::TrialDatasetConfig{.batch_size = batch_size, .seq_len = seq_len}.validate();
}

TrialScore evaluate_trials(neuromod::Network& network, neuromod::ContextId context,
                           const TrialEvaluation& evaluation) {
  evaluation.validate();
  envs::TrialDataset dataset({.env_id = evaluation.env_id,
                              .env_kwargs = evaluation.env_kwargs,
                              .batch_size = evaluation.batch_size,
                              .seq_len = evaluation.seq_len,
                              .seed = evaluation.seed,
                              .split = 1,
                              .input_width = evaluation.input_width,
                              .rule_count = evaluation.rule_count,
                              .rule = evaluation.rule});
  check_network_fits(network, dataset.observation_size(), dataset.num_actions(), evaluation.env_id);
  envs::TrialBatch batch;
  neuromod::Matrix inputs;
  neuromod::RecurrentState state;
  const std::vector<neuromod::ContextId> contexts(evaluation.batch_size, context);
  const std::size_t window_rows = evaluation.batch_size * evaluation.seq_len;
  const std::size_t max_windows = evaluation.trials * kMaxStepsPerTrial / window_rows + 1;
  // The evaluation's noise (a noisy Elman layer) must not shift the noise training draws next.
  const std::uint64_t noise_position = network.noise_position();
  TrialScore score;
  for (std::size_t window = 0; score.trials < evaluation.trials; ++window) {
    if (window == max_windows) {
      throw neuromod::InvalidArgumentError(fmt::format(
          "evaluation of {}: only {} of {} trials ended in {} steps; its trials must end without "
          "a response (a timed cognitive task)",
          evaluation.env_id, score.trials, evaluation.trials, window * window_rows));
    }
    dataset.next(batch);
    window_inputs(batch, inputs);
    const auto& outputs =
        network.forward_sequence(inputs, batch.batch, contexts, state.empty() ? nullptr : &state,
                                 window_starts(batch, evaluation.reset_at_trial_start));
    state = network.final_state();
    const std::size_t wanted = evaluation.trials - score.trials;
    if (batch.trial_ends.size() > wanted) batch.trial_ends.resize(wanted);
    score.trials += batch.trial_ends.size();
    score.correct += count_correct_decisions(batch, outputs[0]);
  }
  network.set_noise_position(noise_position);
  score.accuracy = static_cast<double>(score.correct) / static_cast<double>(score.trials);
  return score;
}

}  // namespace locus::supervised
