#include "bench/harness/methods/context_discovery.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "bench/harness/errors.hpp"
#include "neuromod/losses.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

std::string_view context_at_train_name(ContextAtTrain rule) {
  switch (rule) {
    case ContextAtTrain::kGiven:
      return "given";
    case ContextAtTrain::kOnChange:
      return "on-change";
  }
  throw InvalidArgumentError("invalid ContextAtTrain value");
}

ContextAtTrain context_at_train_from_name(std::string_view name) {
  for (const auto rule : {ContextAtTrain::kGiven, ContextAtTrain::kOnChange}) {
    if (name == context_at_train_name(rule)) return rule;
  }
  throw InvalidArgumentError(
      fmt::format("setting 'context_at_train' is '{}'; allowed: given, on-change", name));
}

void ContextDiscoveryConfig::validate() const {
  if (!(change_threshold > 0.0f) || !std::isfinite(change_threshold)) {
    throw InvalidArgumentError(
        fmt::format("na_change_threshold {} must be a finite z-score > 0", change_threshold));
  }
  if (!(reuse_ratio >= 0.0f && reuse_ratio <= 1.0f)) {
    throw InvalidArgumentError(
        fmt::format("context_reuse_ratio {} must be in [0, 1]", reuse_ratio));
  }
  if (!(stats_rate > 0.0f && stats_rate <= 1.0f)) {
    throw InvalidArgumentError(fmt::format("na_stats_rate {} must be in (0, 1]", stats_rate));
  }
  if (max_contexts < 1) throw InvalidArgumentError("max_contexts must be >= 1");
}

namespace {

nm::NoradrenalineConfig surprise_signal(const ContextDiscoveryConfig& config) {
  nm::NoradrenalineConfig signal;
  signal.source = nm::UncertaintySource::kSurprise;
  signal.change_threshold = config.change_threshold;
  signal.refractory = config.refractory;
  signal.stats_rate = config.stats_rate;
  signal.record_trace = false;
  return signal;
}

}  // namespace

ContextDiscovery::ContextDiscovery(const ContextDiscoveryConfig& config)
    : config_(config), signal_(surprise_signal(config)) {
  config_.validate();
}

bool ContextDiscovery::observe(nm::Network& network, const nm::Matrix& inputs,
                               std::span<const std::int32_t> labels, double loss,
                               std::int64_t step) {
  const nm::NoradrenalineReading reading = signal_.observe(loss);
  if (!reading.change) return false;
  const nm::ContextId current = network.selected_context();
  nm::ContextId best = current;
  double best_loss = std::numeric_limits<double>::infinity();
  row_contexts_.resize(labels.size());
  for (nm::ContextId context = 0; context < nm::ContextId(network.context_count()); ++context) {
    if (context == current) continue;
    std::fill(row_contexts_.begin(), row_contexts_.end(), context);
    const double stored_loss =
        nm::softmax_cross_entropy(network.forward(inputs, row_contexts_).front(), labels);
    if (stored_loss < best_loss) {
      best_loss = stored_loss;
      best = context;
    }
  }
  const bool full = network.context_count() >= config_.max_contexts;
  ContextSwitch change{step, current, current, true, reading.z};
  if (best != current && (best_loss < config_.reuse_ratio * loss || full)) {
    change.to = best;
  } else if (!full) {
    change.to = network.add_context();
    change.reused = false;
  }
  network.select_context(change.to);
  if (change.to != current) switches_.push_back(change);
  return true;
}

BoundaryDetection detect_boundaries(std::span<const ContextSwitch> switches,
                                    std::int64_t steps_per_task, std::int64_t tasks) {
  if (steps_per_task < 1) {
    throw InvalidArgumentError(
        fmt::format("detect_boundaries: steps_per_task is {}; it must be >= 1", steps_per_task));
  }
  BoundaryDetection out;
  out.delays.assign(static_cast<std::size_t>(std::max<std::int64_t>(tasks - 1, 0)), std::nullopt);
  for (const ContextSwitch& change : switches) {
    const std::int64_t task = change.step / steps_per_task;
    const std::int64_t delay = change.step - task * steps_per_task;
    auto* slot =
        task >= 1 && task < tasks ? &out.delays[static_cast<std::size_t>(task - 1)] : nullptr;
    if (slot != nullptr && !slot->has_value()) {
      *slot = delay;
    } else {
      ++out.extra_switches;
    }
  }
  return out;
}

}  // namespace locus::bench
