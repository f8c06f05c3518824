#include "bench/harness/methods/rl_continual.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "bench/harness/errors.hpp"
#include "util/hash.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

namespace {

void check_at_least(std::string_view key, std::int64_t value, std::int64_t least) {
  if (value < least) {
    throw InvalidArgumentError(fmt::format("{} {} must be at least {}", key, value, least));
  }
}

void check_weight(std::string_view key, double value) {
  if (!(value >= 0.0) || !std::isfinite(value)) {
    throw InvalidArgumentError(fmt::format("{} {} must be finite and >= 0", key, value));
  }
}

std::span<const float> row_of(const nm::Matrix& m, std::size_t row) {
  return {m.data() + row * m.shape(1), m.shape(1)};
}

// log softmax(logits), in double.
std::vector<double> log_softmax(std::span<const float> logits) {
  const double top = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (const float z : logits) sum += std::exp(z - top);
  const double log_sum = top + std::log(sum);
  std::vector<double> out;
  out.reserve(logits.size());
  for (const float z : logits) out.push_back(z - log_sum);
  return out;
}

void check_log_std(const PolicyDistribution& distribution, std::size_t units) {
  if (!distribution.categorical() && distribution.log_std.size() != units) {
    throw InvalidArgumentError(fmt::format("a Gaussian policy of {} outputs has {} log stds", units,
                                           distribution.log_std.size()));
  }
}

// Rows v_k with sum_k v_k v_k^T = the Fisher of the action distribution in its outputs (at one
// row of outputs), so that the weights' Fisher diagonal is sum_k (J^T v_k)^2, J the outputs'
// Jacobian: categorical v_a = sqrt(pi_a) (e_a - pi), the log-probability's gradient of action a
// weighted by its probability; Gaussian v_j = e_j / sigma_j.
nm::Matrix fisher_directions(const PolicyDistribution& distribution,
                             std::span<const float> outputs) {
  const std::size_t units = outputs.size();
  nm::Matrix directions({units, units});
  directions.fill(0.0f);
  if (!distribution.categorical()) {
    for (std::size_t j = 0; j < units; ++j) {
      directions(j, j) = static_cast<float>(std::exp(-distribution.log_std[j]));
    }
    return directions;
  }
  const std::vector<double> log_pi = log_softmax(outputs);
  for (std::size_t a = 0; a < units; ++a) {
    const double weight = std::exp(0.5 * log_pi[a]);
    for (std::size_t b = 0; b < units; ++b) {
      const double indicator = a == b ? 1.0 : 0.0;
      directions(a, b) = static_cast<float>(weight * (indicator - std::exp(log_pi[b])));
    }
  }
  return directions;
}

// The KL term of one row and its gradient with respect to the row's outputs (times `scale`).
double row_kl(const PolicyDistribution& distribution, std::span<const float> outputs,
              std::span<const float> target, double scale, std::span<float> gradient) {
  double kl = 0.0;
  if (!distribution.categorical()) {
    for (std::size_t j = 0; j < outputs.size(); ++j) {
      const double variance = std::exp(2.0 * distribution.log_std[j]);
      const double d = static_cast<double>(outputs[j]) - target[j];
      kl += d * d / (2.0 * variance);
      gradient[j] = static_cast<float>(scale * d / variance);
    }
    return kl;
  }
  const std::vector<double> log_pi = log_softmax(outputs);
  const std::vector<double> log_target = log_softmax(target);
  for (std::size_t a = 0; a < outputs.size(); ++a) {
    const double q = std::exp(log_target[a]);
    kl += q * (log_target[a] - log_pi[a]);
    gradient[a] = static_cast<float>(scale * (std::exp(log_pi[a]) - q));
  }
  return kl;
}

// The states kept per task: enough for the Fisher and for the long-term memory.
std::int64_t task_capacity(const RlContinualConfig& config) {
  return std::max(
      {config.ewc_on() ? config.ewc_samples : 0, config.replay_memory, std::int64_t{1}});
}

}  // namespace

void RlContinualConfig::validate() const {
  ewc.validate();
  check_at_least("ewc_samples", ewc_samples, 1);
  check_at_least("replay_memory", replay_memory, 0);
  check_at_least("replay_batch", replay_batch, 1);
  check_weight("replay_kl_weight", replay_kl_weight);
  check_weight("replay_value_weight", replay_value_weight);
}

PenaltyTerm policy_fisher(nm::Network& network, const nm::Matrix& states,
                          const PolicyDistribution& distribution) {
  PenaltyTerm term = anchored_term(network, protected_weights(network, "EWC"));
  const std::size_t rows = states.shape(0), cols = states.shape(1);
  if (rows == 0) throw InvalidArgumentError("EWC: the policy's Fisher needs at least one state");
  const float scale = 1.0f / static_cast<float>(rows);
  nm::Matrix state({1, cols});
  std::vector<nm::Matrix> gradients(2);
  for (std::size_t r = 0; r < rows; ++r) {
    std::copy_n(states.data() + r * cols, cols, state.data());
    const nm::Matrix outputs = network.forward(state)[0];
    check_log_std(distribution, outputs.shape(1));
    const nm::Matrix directions = fisher_directions(distribution, row_of(outputs, 0));
    for (std::size_t k = 0; k < directions.shape(0); ++k) {
      gradients[0] = nm::Matrix({1, directions.shape(1)});
      std::copy_n(directions.data() + k * directions.shape(1), directions.shape(1),
                  gradients[0].data());
      (void)network.forward(state);  // backward reads the activations of the last forward
      network.zero_grad();
      network.backward(gradients);
      for (PenaltyTensor& tensor : term) {
        const auto g = network.read_gradient(tensor.name, nm::kSharedContext);
        for (std::size_t i = 0; i < g.size(); ++i) tensor.importance[i] += scale * g[i] * g[i];
      }
    }
  }
  network.zero_grad();
  return term;
}

double distillation_loss(const PolicyDistribution& distribution, const nm::Matrix& policy,
                         const nm::Matrix& value, const nm::Matrix& target_policy,
                         std::span<const float> target_value, const DistillationWeights& weights,
                         nm::Matrix& policy_gradient, nm::Matrix& value_gradient) {
  const std::size_t rows = policy.shape(0), units = policy.shape(1);
  if (target_policy.shape(0) != rows || target_policy.shape(1) != units || value.shape(0) != rows ||
      target_value.size() != rows) {
    throw InvalidArgumentError(fmt::format(
        "distillation: outputs of {} rows x {} units against targets of {} x {} and {} values",
        rows, units, target_policy.shape(0), target_policy.shape(1), target_value.size()));
  }
  check_log_std(distribution, units);
  policy_gradient.resize({rows, units});
  value_gradient.resize({rows, 1});
  const double kl_scale = weights.kl / static_cast<double>(rows);
  const double value_scale = weights.value / static_cast<double>(rows);
  double kl = 0.0, squared = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    kl += row_kl(distribution, row_of(policy, r), row_of(target_policy, r), kl_scale,
                 {policy_gradient.data() + r * units, units});
    const double d = static_cast<double>(value(r, 0)) - target_value[r];
    squared += d * d;
    value_gradient(r, 0) = static_cast<float>(2.0 * value_scale * d);
  }
  return kl_scale * kl + value_scale * squared;
}

RlContinualMethods::RlContinualMethods(const RlContinualConfig& config, std::uint64_t seed)
    : config_(config),
      seed_(seed),
      penalty_(config.ewc.lambda / 2.0, {.running = config.ewc.online, .decay = config.ewc.gamma},
               "ewc_lambda", config.ewc.lambda),
      task_states_(task_capacity(config), false, util::mix_seed(seed, 0)) {
  config_.validate();
  if (config_.replay_on()) {
    memory_.emplace(config_.replay_memory, false, util::mix_seed(seed_, 1000003));
  }
}

void RlContinualMethods::observe(const nm::Matrix& rollout_inputs) {
  input_dim_ = static_cast<std::int64_t>(rollout_inputs.shape(1));
  for (std::size_t r = 0; r < rollout_inputs.shape(0); ++r) {
    task_states_.offer(row_of(rollout_inputs, r), 0, -1, tasks_ended_);
  }
}

nm::Matrix RlContinualMethods::task_states(std::int64_t count) {
  const auto drawn = task_states_.sample(count);
  const auto cols = static_cast<std::size_t>(input_dim_);
  nm::Matrix states({drawn.size(), cols});
  for (std::size_t r = 0; r < drawn.size(); ++r) {
    std::copy_n(drawn[r]->input.data(), cols, states.data() + r * cols);
  }
  return states;
}

void RlContinualMethods::end_task(nm::Network& network, const PolicyDistribution& distribution,
                                  std::int64_t task) {
  if (task_states_.size() > 0) {
    if (config_.ewc_on()) {
      penalty_.add(policy_fisher(network, task_states(config_.ewc_samples), distribution));
    }
    if (config_.replay_on()) remember(network, task);
  }
  tasks_ended_ += 1;
  task_states_ = ReplayMemory(task_states_.capacity(), false,
                              util::mix_seed(seed_, static_cast<std::uint64_t>(tasks_ended_)));
}

void RlContinualMethods::remember(nm::Network& network, std::int64_t task) {
  const nm::Matrix states = task_states(task_states_.size());
  const std::vector<nm::Matrix>& outputs = network.forward(states);
  const std::size_t units = outputs[0].shape(1);
  std::vector<float> target(units + 1);  // the policy's outputs, then the value
  for (std::size_t r = 0; r < states.shape(0); ++r) {
    std::copy_n(outputs[0].data() + r * units, units, target.data());
    target[units] = outputs[1](r, 0);
    memory_->offer(row_of(states, r), 0, -1, task, target);
  }
}

void RlContinualMethods::add_gradients(nm::Network& network,
                                       const PolicyDistribution& distribution) {
  if (config_.ewc_on()) penalty_.add_gradient(network);
  if (config_.replay_on() && memory_->size() > 0) replay(network, distribution);
}

void RlContinualMethods::replay(nm::Network& network, const PolicyDistribution& distribution) {
  const auto drawn = memory_->sample(config_.replay_batch);
  const std::size_t rows = drawn.size(), cols = drawn.front()->input.size();
  const std::size_t units = drawn.front()->logits.size() - 1;
  replay_inputs_.resize({rows, cols});
  nm::Matrix target_policy({rows, units});
  std::vector<float> target_value(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    std::copy_n(drawn[r]->input.data(), cols, replay_inputs_.data() + r * cols);
    std::copy_n(drawn[r]->logits.data(), units, target_policy.data() + r * units);
    target_value[r] = drawn[r]->logits[units];
  }
  const std::vector<nm::Matrix>& outputs = network.forward(replay_inputs_);
  std::vector<nm::Matrix> gradients(2);
  (void)distillation_loss(distribution, outputs[0], outputs[1], target_policy, target_value,
                          {.kl = config_.replay_kl_weight, .value = config_.replay_value_weight},
                          gradients[0], gradients[1]);
  network.backward(gradients);
}

std::int64_t RlContinualMethods::bytes() const {
  std::int64_t total = memory_ ? memory_->bytes() : 0;
  for (const PenaltyTerm& term : penalty_.terms()) {
    for (const PenaltyTensor& tensor : term) {
      total += static_cast<std::int64_t>((tensor.importance.size() + tensor.anchor.size()) *
                                         sizeof(float));
    }
  }
  return total;
}

}  // namespace locus::bench
