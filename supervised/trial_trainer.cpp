#include "supervised/trial_trainer.hpp"

#include <fmt/core.h>

#include "neuromod/errors.hpp"

namespace locus::supervised {

neuromod::Recurrence recurrence_from_name(std::string_view name) {
  if (name == "elman") return neuromod::Recurrence::kElman;
  if (name == "gru") return neuromod::Recurrence::kGru;
  if (name == "lstm") return neuromod::Recurrence::kLstm;
  throw neuromod::InvalidArgumentError(
      fmt::format("unknown recurrent network '{}': use elman, gru or lstm", name));
}

neuromod::OptimizerConfig default_trial_optimizer(bool modulated) {
  neuromod::OptimizerConfig optimizer;
  optimizer.kind = neuromod::OptimizerKind::kAdam;
  optimizer.learning_rate = modulated ? 1e-1f : 1e-2f;
  optimizer.clip_grad_norm = 1.0f;
  return optimizer;
}

void TrialTrainerConfig::validate() const {
  data.validate();
  optimizer_or_default().validate();
  if (!network.spec && network.hidden == 0) {
    throw neuromod::InvalidArgumentError("network: hidden must be at least 1, got 0");
  }
  if (network.spec && !network.spec->is_recurrent()) {
    throw neuromod::InvalidArgumentError(fmt::format(
        "network: the spec '{}' has no recurrent layer; the cognitive tasks need memory (give a "
        "layer recurrence elman, gru or lstm)",
        network.spec->name));
  }
  if (eval_trials == 0) {
    throw neuromod::InvalidArgumentError("eval_trials must be at least 1, got 0");
  }
}

neuromod::OptimizerConfig TrialTrainerConfig::optimizer_or_default() const {
  return optimizer ? *optimizer : default_trial_optimizer(network.modulated);
}

neuromod::NetworkSpec trial_network_spec(const RecurrentChoice& choice,
                                         std::size_t observation_size, std::size_t num_actions,
                                         std::uint64_t seed) {
  if (choice.spec) return *choice.spec;
  return neuromod::recurrent_network(choice.recurrence, observation_size, choice.hidden,
                                     num_actions, seed, choice.modulated, choice.alpha);
}

namespace {
const TrialTrainerConfig& validated(const TrialTrainerConfig& config) {
  config.validate();
  return config;
}
}  // namespace

TrialTrainer::TrialTrainer(const TrialTrainerConfig& config)
    : config_(validated(config)), stream_(config.data, config.reset_at_trial_start) {
  const envs::TrialDataset& data = stream_.dataset();
  network_ = neuromod::make_network(trial_network_spec(config_.network, data.observation_size(),
                                                       data.num_actions(), config_.data.seed),
                                    config_.backend);
  check_network_fits(*network_, data.observation_size(), data.num_actions(), config_.data.env_id);
  network_->set_gradient_mode(network_->spec().has_trainable_shared_weights()
                                  ? neuromod::GradientMode::kAllTrainable
                                  : neuromod::GradientMode::kContextOnly);
  network_->set_optimizer(config_.optimizer_or_default());
  evaluation_ = {.env_id = config_.data.env_id,
                 .env_kwargs = config_.data.env_kwargs,
                 .trials = config_.eval_trials,
                 .seed = config_.data.seed,
                 .reset_at_trial_start = config_.reset_at_trial_start};
}

WindowResult TrialTrainer::train_step() {
  WindowResult result = stream_.train_window(*network_, network_->selected_context());
  ++iterations_done_;
  return result;
}

TrialScore TrialTrainer::evaluate() {
  return evaluate_trials(*network_, network_->selected_context(), evaluation_);
}

TrialHistory TrialTrainer::train(std::int64_t iterations, std::int64_t eval_every,
                                 const std::function<bool(const TrialHistory&)>& on_evaluation) {
  if (iterations < 0 || eval_every < 0) {
    throw neuromod::InvalidArgumentError(
        fmt::format("train: iterations and eval_every must be 0 or more, got {} and {}", iterations,
                    eval_every));
  }
  TrialHistory history;
  double loss_sum = 0.0;
  std::size_t trials = 0, correct = 0;
  std::int64_t since = 0;
  for (std::int64_t i = 1; i <= iterations; ++i) {
    const WindowResult window = train_step();
    loss_sum += window.loss;
    trials += window.trials_ended;
    correct += window.decisions_correct;
    ++since;
    if (i != iterations && (eval_every == 0 || i % eval_every != 0)) continue;
    history.iterations.push_back(iterations_done_);
    history.losses.push_back(loss_sum / static_cast<double>(since));
    history.train_accuracies.push_back(
        trials == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(trials));
    last_score_ = evaluate();
    history.accuracies.push_back(last_score_->accuracy);
    loss_sum = 0.0;
    trials = correct = 0;
    since = 0;
    if (on_evaluation && !on_evaluation(history)) break;
  }
  return history;
}

}  // namespace locus::supervised
