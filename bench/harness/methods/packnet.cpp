#include "bench/harness/methods/packnet.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "bench/harness/errors.hpp"
#include "bench/harness/methods/quadratic_penalty.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

namespace {

// Whether step() can move a weight whose gradient is zero: momentum's velocity, Adam's and
// RMSprop's moments from earlier steps, and weight decay do; plain SGD's w -= lr * 0 does not.
bool zero_gradient_can_move(const nm::OptimizerConfig& optimizer) {
  return optimizer.kind != nm::OptimizerKind::kSgd || optimizer.weight_decay > 0.0f;
}

}  // namespace

void PacknetConfig::validate() const {
  if (!(prune_fraction >= 0.0 && prune_fraction < 1.0)) {
    throw InvalidArgumentError(fmt::format(
        "packnet_prune {} must be in [0, 1): the fraction of a task's free weights pruned for the "
        "later tasks (0.5 in the paper; 0 turns PackNet off)",
        prune_fraction));
  }
  if (retrain_iterations < 0 || task_iterations < 0) {
    throw InvalidArgumentError(fmt::format("packnet_retrain {} must be >= 0", retrain_iterations));
  }
  if (enabled() && task_iterations > 0 && retrain_iterations >= task_iterations) {
    throw InvalidArgumentError(fmt::format(
        "packnet_retrain {} must be below iterations_per_task {}: the task trains before it is "
        "pruned, then retrains; lower packnet_retrain",
        retrain_iterations, task_iterations));
  }
}

std::vector<std::size_t> smallest_magnitudes(const std::vector<float>& values,
                                             std::vector<std::size_t> candidates,
                                             std::size_t count) {
  count = std::min(count, candidates.size());
  const auto by_magnitude = [&](std::size_t a, std::size_t b) {
    const float ma = std::fabs(values[a]);
    const float mb = std::fabs(values[b]);
    return ma != mb ? ma < mb : a < b;
  };
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(count),
                    candidates.end(), by_magnitude);
  candidates.resize(count);
  return candidates;
}

PackNet::PackNet(PacknetConfig config) : config_(config) {
  config_.validate();
}

void PackNet::track(const nm::Network& network) {
  for (const auto& info : protected_weights(network, "PackNet")) {
    tensors_.push_back({.name = info.name,
                        .owner = std::vector<std::int32_t>(info.size(), kFree),
                        .held = std::vector<float>(info.size(), 0.0f)});
  }
}

void PackNet::hold_current_values(const nm::Network& network) {
  for (auto& tensor : tensors_) tensor.held = network.read_parameter(tensor.name);
}

void PackNet::begin_task(nm::Network& network, std::int64_t task) {
  if (tensors_.empty()) track(network);
  if (task_ >= 0 && !pruned_) prune(network);  // the task ended before its prune point
  // The weights pruned from the task just ended are zero and free for this one.
  for (auto& tensor : tensors_) {
    std::replace(tensor.owner.begin(), tensor.owner.end(), kPruned, kFree);
  }
  task_ = task;
  steps_in_task_ = 0;
  pruned_ = false;
  hold_current_values(network);
}

void PackNet::before_step(nm::Network& network) const {
  if (!anything_frozen()) return;
  std::vector<float> cancel;
  for (const auto& tensor : tensors_) {
    const auto gradient = network.read_gradient(tensor.name);
    cancel.assign(gradient.size(), 0.0f);
    bool any = false;
    for (std::size_t i = 0; i < gradient.size(); ++i) {
      if (frozen(tensor.owner[i])) {
        cancel[i] = -gradient[i];
        any = true;
      }
    }
    if (any) network.add_to_gradient(tensor.name, nm::kSharedContext, cancel);
  }
}

void PackNet::after_step(nm::Network& network) {
  const bool restore = anything_frozen() && zero_gradient_can_move(network.optimizer());
  for (const auto& tensor : tensors_) {
    if (!restore) break;
    auto values = network.read_parameter(tensor.name);
    bool moved = false;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (frozen(tensor.owner[i]) && values[i] != tensor.held[i]) {
        values[i] = tensor.held[i];
        moved = true;
      }
    }
    if (moved) network.write_parameter(tensor.name, nm::kSharedContext, values);
  }
  ++steps_in_task_;
  const std::int64_t prune_at = config_.task_iterations - config_.retrain_iterations;
  if (!pruned_ && config_.task_iterations > 0 && steps_in_task_ == prune_at) prune(network);
}

void PackNet::prune(nm::Network& network) {
  if (task_ < 0) throw InvalidArgumentError("PackNet: prune() before the first task");
  const auto owner_now = static_cast<std::int32_t>(task_);
  for (auto& tensor : tensors_) {
    std::vector<std::size_t> free;
    for (std::size_t i = 0; i < tensor.owner.size(); ++i) {
      if (tensor.owner[i] == kFree) free.push_back(i);
    }
    // Avalanche's count: the fraction of the free weights, rounded down.
    const auto count =
        static_cast<std::size_t>(static_cast<double>(free.size()) * config_.prune_fraction);
    auto values = network.read_parameter(tensor.name);
    for (const std::size_t i : free) tensor.owner[i] = owner_now;
    for (const std::size_t i : smallest_magnitudes(values, free, count)) {
      tensor.owner[i] = kPruned;
      values[i] = 0.0f;
    }
    network.write_parameter(tensor.name, nm::kSharedContext, values);
    tensor.held = std::move(values);
  }
  pruned_ = true;
}

void PackNet::show_task(nm::Network& network, std::int64_t task) {
  evaluation_backup_.clear();
  // The current task (and one not trained yet, scored with the network as it is now) sees every
  // weight: the ones it is training are its own, the pruned ones are zero.
  if (task >= task_) return;
  for (const auto& tensor : tensors_) {
    auto values = network.read_parameter(tensor.name);
    evaluation_backup_.push_back(values);
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::int32_t owner = tensor.owner[i];
      if (owner < 0 || owner > task) values[i] = 0.0f;
    }
    network.write_parameter(tensor.name, nm::kSharedContext, values);
  }
}

void PackNet::restore_after_evaluation(nm::Network& network) {
  for (std::size_t t = 0; t < evaluation_backup_.size(); ++t) {
    network.write_parameter(tensors_[t].name, nm::kSharedContext, evaluation_backup_[t]);
  }
  evaluation_backup_.clear();
}

}  // namespace locus::bench
